#include "http/document_routes.h"

#include <string>
#include <utility>
#include <vector>

#include "boost/json.hpp"
#include "core/strings.h"
#include "http/json_fields.h"

namespace herald::http {
namespace {

namespace json = boost::json;

constexpr size_t kMaxWaitDocuments = 20;

json::object Ok(json::value data) {
  return json::object{{"success", true}, {"data", std::move(data)}};
}

std::string CreatedBy(const Request& req) {
  return req.principal ? req.principal->name : std::string("anonymous");
}

// The requests of a POST /api/documents/generate body (see the header).
Result<std::vector<docs::DocumentRequest>> ParseGenerate(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(
      f.CheckKnown({"trigger", "target", "documentTypes", "documentType", "type", "data", "locale",
                    "reference", "template", "documents", "wait"}));
  HERALD_RETURN_IF_ERROR(f.String("trigger").status());
  json::object defaults;
  for (const char* key : {"target", "data", "locale", "reference"}) {
    if (const json::value* v = body.if_contains(key)) defaults[key] = *v;
  }
  std::vector<docs::DocumentRequest> out;
  if (const json::value* documents = body.if_contains("documents")) {
    if (body.if_contains("documentTypes") != nullptr || body.if_contains("type") != nullptr ||
        body.if_contains("template") != nullptr) {
      return absl::InvalidArgumentError(
          "documents: give either documents or documentTypes/type, not both");
    }
    if (!documents->is_array() || documents->get_array().empty()) {
      return absl::InvalidArgumentError("documents: expected a non-empty array");
    }
    if (documents->get_array().size() > docs::kMaxBatchDocuments) {
      return absl::InvalidArgumentError(
          StrCat("documents: at most ", docs::kMaxBatchDocuments, " in one request"));
    }
    const json::array& list = documents->get_array();
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_object()) {
        return absl::InvalidArgumentError(StrCat("documents[", i, "]: expected an object"));
      }
      HERALD_ASSIGN_OR_RETURN(docs::DocumentRequest r,
                              docs::ParseDocumentRequest(list[i].get_object(), defaults,
                                                         StrCat("documents[", i, "].")));
      out.push_back(std::move(r));
    }
    return out;
  }
  // One data set for one or several kinds.
  std::vector<std::string> types;
  for (const char* key : {"type", "documentType"}) {
    if (const json::value* v = body.if_contains(key)) {
      if (!v->is_string()) return absl::InvalidArgumentError(StrCat(key, ": expected a string"));
      types.emplace_back(v->get_string());
    }
  }
  if (const json::value* v = body.if_contains("documentTypes")) {
    if (!v->is_array() || v->get_array().empty() || v->get_array().size() > 10) {
      return absl::InvalidArgumentError("documentTypes: expected an array of 1 to 10 kinds");
    }
    for (const json::value& t : v->get_array()) {
      if (!t.is_string()) return absl::InvalidArgumentError("documentTypes: expected strings");
      types.emplace_back(t.get_string());
    }
  }
  if (types.empty()) {
    return absl::InvalidArgumentError("documentTypes: required (or documents for a batch)");
  }
  if (body.if_contains("template") != nullptr && types.size() != 1) {
    return absl::InvalidArgumentError("template: applies to one document type only");
  }
  for (const std::string& type : types) {
    json::object item{{"type", type}};
    if (const json::value* t = body.if_contains("template")) item["template"] = *t;
    HERALD_ASSIGN_OR_RETURN(docs::DocumentRequest r,
                            docs::ParseDocumentRequest(item, defaults, ""));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

Status ParseDocumentBody(const json::object& body) { return ParseGenerate(body).status(); }

void AddDocumentRoutes(Router& router, docs::Documents& documents) {
  const std::string tag = "documents";
  docs::Documents* d = &documents;

  router.Add({"POST", "/api/documents/generate", "documents:create",
              "Make documents (ticket, invoice, booking confirmation, mission proposal, delta "
              "report) for an audience: one at once (201), a batch as jobs (202)",
              [d](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(std::vector<docs::DocumentRequest> requests,
                                        ParseGenerate(body));
                Fields f(body);
                HERALD_ASSIGN_OR_RETURN(std::optional<bool> wait, f.Bool("wait"));
                if (requests.size() == 1 ||
                    (wait.value_or(false) && requests.size() <= kMaxWaitDocuments)) {
                  HERALD_ASSIGN_OR_RETURN(std::vector<docs::DocumentRecord> records,
                                          d->Generate(requests, CreatedBy(req)));
                  json::array made;
                  for (const docs::DocumentRecord& r : records) made.push_back(docs::ToJson(r));
                  return Response::Json(201, Ok(json::object{{"documents", std::move(made)}}));
                }
                HERALD_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                                        d->EnqueueBatch(requests, CreatedBy(req)));
                json::array job_ids(ids.begin(), ids.end());
                json::object data{{"jobId", job_ids.front()},
                                  {"jobIds", job_ids},
                                  {"status", "queued"},
                                  {"count", static_cast<int64_t>(requests.size())}};
                return Response::Json(202, Ok(std::move(data)));
              },
              201, tag});

  router.Add({"GET", "/api/documents", "documents:read",
              "Documents, newest first; reference, cursor (the last id seen), limit",
              [d](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> limit,
                                        QueryInt(req, "limit", 1, 1000));
                const int n = static_cast<int>(limit.value_or(100));
                std::string reference, cursor;
                if (auto r = req.Query("reference")) reference = std::string(*r);
                if (auto c = req.Query("cursor")) cursor = std::string(*c);
                HERALD_ASSIGN_OR_RETURN(std::vector<docs::DocumentRecord> list,
                                        d->List(reference, cursor, n));
                json::array data;
                for (const auto& r : list) data.push_back(docs::ToJson(r));
                json::value next = static_cast<int>(list.size()) == n && !list.empty()
                                       ? json::value(list.back().id)
                                       : json::value(nullptr);
                return Response::Json(200, json::object{{"success", true},
                                                        {"data", std::move(data)},
                                                        {"next_cursor", std::move(next)}});
              },
              200, tag, PageQuery({{"reference", "only documents made for this reference"}})});

  router.Add({"GET", "/api/documents/templates", "documents:read",
              "The built-in template of each document kind (the template language of custom "
              "templates)",
              [](Request&) -> Result<Response> {
                json::object data;
                for (docs::DocumentType t :
                     {docs::DocumentType::kTicket, docs::DocumentType::kInvoice,
                      docs::DocumentType::kBookingConfirmation,
                      docs::DocumentType::kMissionProposal, docs::DocumentType::kDeltaReport}) {
                  data[docs::DocumentTypeName(t)] = json::parse(docs::BuiltinTemplateSource(t));
                }
                return Response::Json(200, Ok(std::move(data)));
              },
              200, tag});

  router.Add({"GET",
              "/api/documents/{id}",
              "documents:read",
              "A document's PDF (?meta=1: its metadata)",
              [d](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(docs::DocumentRecord record, d->Get(req.params.at("id")));
                if (auto meta = req.Query("meta"); meta && *meta != "0" && *meta != "false") {
                  return Response::Json(200, Ok(docs::ToJson(record)));
                }
                HERALD_ASSIGN_OR_RETURN(std::string bytes, d->ReadContent(record));
                Response r = Response::Text(200, std::move(bytes), record.content_type);
                r.headers.emplace_back("Content-Disposition",
                                       StrCat("attachment; filename=\"", record.filename, "\""));
                r.headers.emplace_back("ETag", StrCat("\"", record.sha256, "\""));
                r.headers.emplace_back("Cache-Control", "private, max-age=31536000, immutable");
                return r;
              },
              200,
              tag,
              {{"meta", "true: the record, not the file", "boolean"}}});
}

}  // namespace herald::http
