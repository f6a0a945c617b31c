#include "docs/kinds.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "boost/json.hpp"
#include "core/strings.h"

namespace herald::docs {
namespace {

namespace json = boost::json;

constexpr std::pair<std::string_view, DocumentType> kTypes[] = {
    {"TICKET", DocumentType::kTicket},
    {"INVOICE", DocumentType::kInvoice},
    {"BOOKING_CONFIRMATION", DocumentType::kBookingConfirmation},
    {"MISSION_PROPOSAL", DocumentType::kMissionProposal},
    {"DELTA_REPORT", DocumentType::kDeltaReport},
};
constexpr std::pair<std::string_view, Audience> kAudiences[] = {
    {"INTERNAL_STAFF", Audience::kInternalStaff},
    {"CUSTOMER", Audience::kCustomer},
    {"EXTERNAL_PROVIDER", Audience::kExternalProvider},
    {"EXTERNAL", Audience::kExternalProvider},
};

// Reads fields of the caller's data, naming the path in errors.
class In {
 public:
  In(const json::value* v, std::string path) : v_(v), path_(std::move(path)) {}

  In operator[](std::string_view key) const {
    const json::object* o = v_ == nullptr ? nullptr : v_->if_object();
    return In(o == nullptr ? nullptr : o->if_contains(key),
              path_.empty() ? std::string(key) : StrCat(path_, ".", key));
  }
  bool present() const { return v_ != nullptr && !v_->is_null(); }
  const json::value* get() const { return v_; }
  const std::string& path() const { return path_; }

  Status Error(std::string_view message) const {
    return absl::InvalidArgumentError(StrCat("data.", path_, ": ", message));
  }

  // A string, or a number written as text; "" when absent. Bounded length.
  Result<std::string> Text(bool required = false) const {
    if (!present()) {
      if (required) return Error("required");
      return std::string();
    }
    std::string s;
    if (v_->is_string()) {
      s = std::string(v_->get_string());
    } else if (v_->is_int64() || v_->is_uint64()) {
      s = json::serialize(*v_);
    } else if (v_->is_double()) {
      s = StrCat(v_->get_double());  // 12.5, not JSON's 1.25E1
    } else if (v_->is_bool()) {
      s = v_->get_bool() ? "true" : "false";
    } else {
      return Error("expected a string");
    }
    if (s.size() > 10'000) return Error("longer than 10000 bytes");
    if (required && s.empty()) return Error("required");
    return s;
  }

  // An amount in major units (89.5 or "89.50") → cents, rounded half away from zero.
  Result<std::optional<int64_t>> Cents() const {
    if (!present()) return std::optional<int64_t>();
    double d = 0;
    if (v_->is_number()) {
      d = v_->to_number<double>();
    } else if (v_->is_string()) {
      std::string s(v_->get_string());
      for (char& c : s) {
        if (c == ',') c = '.';
      }
      char* end = nullptr;
      d = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) return Error("expected an amount");
    } else {
      return Error("expected an amount");
    }
    if (!std::isfinite(d) || std::fabs(d) > 1e12) return Error("amount out of range");
    return std::optional<int64_t>(std::llround(d * 100));
  }

  Result<double> Number(double fallback, double min, double max) const {
    if (!present()) return fallback;
    if (!v_->is_number()) return Error("expected a number");
    const double d = v_->to_number<double>();
    if (!(d >= min && d <= max)) return Error(StrCat("must be between ", min, " and ", max));
    return d;
  }

  Result<const json::array*> Array(bool required) const {
    if (!present()) {
      if (required) return Error("required");
      return static_cast<const json::array*>(nullptr);
    }
    if (!v_->is_array()) return Error("expected an array");
    if (v_->get_array().size() > 100'000) return Error("more than 100000 entries");
    return &v_->get_array();
  }

 private:
  const json::value* v_;
  std::string path_;
};

struct Locale {
  bool fr = true;
};

const char* const kFrDays[] = {"lundi",    "mardi",  "mercredi", "jeudi",
                               "vendredi", "samedi", "dimanche"};
const char* const kEnDays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                               "Friday", "Saturday", "Sunday"};
const char* const kFrMonths[] = {"janvier",   "février", "mars",     "avril",
                                 "mai",       "juin",    "juillet",  "août",
                                 "septembre", "octobre", "novembre", "décembre"};
const char* const kEnMonths[] = {"January",   "February", "March",    "April",
                                 "May",       "June",     "July",     "August",
                                 "September", "October",  "November", "December"};

int WeekdayIndex(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return 0;
    case absl::Weekday::tuesday:
      return 1;
    case absl::Weekday::wednesday:
      return 2;
    case absl::Weekday::thursday:
      return 3;
    case absl::Weekday::friday:
      return 4;
    case absl::Weekday::saturday:
      return 5;
    default:
      return 6;
  }
}

std::string TwoDigits(int v) { return v < 10 ? StrCat("0", v) : StrCat(v); }

// Amounts beyond this many cents (100 billion) are refused: every sum stays exact in int64.
constexpr double kMaxCents = 1e13;

// 2 → "2", 1.5 → "1,5" (fr) or "1.5" (en): a quantity or a rate as people write it.
std::string Decimal(double v, Locale l) {
  std::string s = StrCat(v);
  if (l.fr) {
    for (char& c : s) {
      if (c == '.') c = ',';
    }
  }
  return s;
}

// "2026-07-18T20:30:00+02:00" → "samedi 18 juillet 2026 à 20:30" in `zone`; "2026-07-18" →
// "samedi 18 juillet 2026"; anything else is printed as given.
std::string FormatDate(const std::string& text, const absl::TimeZone& zone, Locale locale) {
  absl::CivilSecond c;
  bool has_time = false;
  absl::Time t;
  std::string err;
  if (text.size() > 10 && absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    c = absl::ToCivilSecond(t, zone);
    has_time = true;
  } else if (absl::CivilDay day; text.size() == 10 && absl::ParseCivilTime(text, &day)) {
    c = absl::CivilSecond(day);
  } else {
    return text;
  }
  const absl::CivilDay day(c);
  const int wd = WeekdayIndex(day);
  std::string out =
      locale.fr ? StrCat(kFrDays[wd], " ", c.day(), c.day() == 1 ? "er" : "", " ",
                         kFrMonths[c.month() - 1], " ", c.year())
                : StrCat(kEnDays[wd], " ", c.day(), " ", kEnMonths[c.month() - 1], " ", c.year());
  if (has_time) {
    out += locale.fr ? StrCat(" à ", TwoDigits(c.hour()), ":", TwoDigits(c.minute()))
                     : StrCat(", ", TwoDigits(c.hour()), ":", TwoDigits(c.minute()));
  }
  return out;
}

Result<absl::TimeZone> Zone(const In& in) {
  HERALD_ASSIGN_OR_RETURN(std::string name, in.Text());
  if (name.empty()) name = "Europe/Paris";
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(name, &zone)) return in.Error("unknown time zone");
  return zone;
}

json::object Labels(Locale l) {
  json::object o;
  const auto put = [&](const char* key, const char* fr, const char* en) {
    o[key] = l.fr ? fr : en;
  };
  put("date", "Date", "Date");
  put("location", "Lieu", "Venue");
  put("guest", "Invité", "Guest");
  put("type", "Type", "Type");
  put("seat", "Place", "Seat");
  put("price", "Prix", "Price");
  put("code", "Code", "Code");
  put("ticketFooter", "Présentez ce billet à l'entrée, imprimé ou sur votre téléphone.",
      "Show this ticket at the door, printed or on your phone.");
  put("invoice", "Facture", "Invoice");
  put("receipt", "Reçu", "Receipt");
  put("number", "N°", "No.");
  put("issueDate", "Date d'émission", "Issue date");
  put("dueDate", "Échéance", "Due date");
  put("seller", "Émetteur", "From");
  put("buyer", "Client", "Bill to");
  put("description", "Description", "Description");
  put("quantity", "Qté", "Qty");
  put("unitPrice", "Prix unitaire HT", "Unit price");
  put("vatRate", "TVA", "VAT");
  put("lineTotal", "Total HT", "Amount");
  put("unitPriceGross", "Prix unitaire TTC", "Unit price incl. VAT");
  put("lineTotalGross", "Total TTC", "Amount incl. VAT");
  put("subtotal", "Total HT", "Subtotal");
  put("vat", "TVA", "VAT");
  put("total", "Total TTC", "Total");
  put("paid", "Payée", "Paid");
  put("vatNumber", "N° TVA", "VAT no.");
  put("booking", "Confirmation de réservation", "Booking confirmation");
  put("reference", "Référence", "Reference");
  put("service", "Prestation", "Service");
  put("serviceDate", "Date de la prestation", "Service date");
  put("status", "Statut", "Status");
  put("customer", "Client", "Customer");
  put("email", "E-mail", "Email");
  put("phone", "Téléphone", "Phone");
  put("address", "Adresse", "Address");
  put("amount", "Montant", "Amount");
  put("estimatedAmount", "Montant estimé", "Estimated amount");
  put("payment", "Paiement", "Payment");
  put("notes", "Notes", "Notes");
  put("internalNotes", "Notes internes", "Internal notes");
  put("mission", "Proposition de mission", "Mission proposal");
  put("city", "Ville", "City");
  put("provider", "Prestataire", "Provider");
  put("respondBefore", "Répondre avant", "Respond before");
  put("accept", "Accepter la mission", "Accept the mission");
  put("refuse", "Refuser", "Decline");
  put("restricted",
      "Document restreint : les coordonnées complètes du client vous seront communiquées après "
      "acceptation.",
      "Restricted document: the customer's full details are shared once you accept.");
  put("delta", "Rapport de synchronisation", "Sync report");
  put("source", "Source", "Source");
  put("syncedAt", "Synchronisé le", "Synced at");
  put("added", "Ajoutés", "Added");
  put("changed", "Modifiés", "Changed");
  put("removed", "Supprimés", "Removed");
  put("id", "Identifiant", "Id");
  put("name", "Nom", "Name");
  put("field", "Champ", "Field");
  put("before", "Avant", "Before");
  put("after", "Après", "After");
  put("generatedBy", "Généré par Herald", "Generated by Herald");
  return o;
}

// "Jeanne Marie Doe" → "J. Doe"; "Doe" → "Doe"; "J. Doe" stays.
std::string AbbreviateName(const std::string& first, const std::string& last) {
  std::string f(ToStd(absl::StripAsciiWhitespace(first)));
  std::string l(ToStd(absl::StripAsciiWhitespace(last)));
  if (l.empty()) {  // one string: the last word is the family name
    const size_t space = f.rfind(' ');
    if (space == std::string::npos) return f;
    l = f.substr(space + 1);
    f = f.substr(0, space);
  }
  if (f.empty()) return l;
  size_t n = 1;  // the first letter, whole (UTF-8)
  while (n < f.size() && (static_cast<uint8_t>(f[n]) & 0xC0) == 0x80) ++n;
  return StrCat(f.substr(0, n), ". ", l);
}

// The city of a free-form address, or "" when it cannot be told apart from the street (better
// nothing than a street in a restricted document): the text after the postal code (4 or 5
// digits) of the last comma-separated part, else that part when a comma set it apart and it
// holds no digit, else the address when it is one word. "12 rue de la Paix, 75002 Paris",
// "17 rue des Lilas 75011 Paris" and "Paris" give "Paris"; "rue des Lilas" (or "Le Havre",
// which cannot be told from a street) gives "".
std::string CityOf(const std::string& address) {
  const size_t comma = address.rfind(',');
  const std::string part = comma == std::string::npos ? address : address.substr(comma + 1);
  size_t code_end = std::string::npos;
  for (size_t i = 0; i < part.size();) {
    if (part[i] < '0' || part[i] > '9') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < part.size() && part[j] >= '0' && part[j] <= '9') ++j;
    if (j - i == 4 || j - i == 5) code_end = j;
    i = j;
  }
  std::string city;
  if (code_end != std::string::npos) {
    city = part.substr(code_end);
  } else if (part.find_first_of("0123456789") == std::string::npos &&
             (comma != std::string::npos ||
              ToStd(absl::StripAsciiWhitespace(part)).find(' ') == std::string_view::npos)) {
    city = part;  // set apart by a comma, or one word alone ("Paris", "Saint-Étienne")
  }
  if (city.find_first_of("0123456789") != std::string::npos) return "";
  return std::string(ToStd(absl::StripAsciiWhitespace(city)));
}

Status CheckUrl(const In& in, const std::string& url) {
  if (url.empty()) return absl::OkStatus();
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
    return in.Error("expected an http or https URL");
  }
  return absl::OkStatus();
}

// ---- Kinds ----------------------------------------------------------------------------------

Result<PreparedDocument> Ticket(const In& d, Locale l) {
  json::object out;
  HERALD_ASSIGN_OR_RETURN(absl::TimeZone zone, Zone(d["event"]["timezone"]));
  json::object event;
  HERALD_ASSIGN_OR_RETURN(std::string title, d["event"]["title"].Text(true));
  HERALD_ASSIGN_OR_RETURN(std::string date, d["event"]["date"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string location, d["event"]["location"].Text());
  event["title"] = title;
  event["date"] = FormatDate(date, zone, l);
  event["location"] = location;
  json::object guest;
  HERALD_ASSIGN_OR_RETURN(std::string first, d["guest"]["firstName"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string last, d["guest"]["lastName"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string name, d["guest"]["name"].Text());
  guest["name"] = !name.empty()
                      ? name
                      : std::string(ToStd(absl::StripAsciiWhitespace(StrCat(first, " ", last))));
  // Seed 002's enriched ticket, for custom layouts: the guest's names, email and phone, the
  // event's id, the template's id, name and design.
  for (const char* field : {"first_name", "last_name", "email", "phone"}) {
    HERALD_ASSIGN_OR_RETURN(std::string v, d["guest"][field].Text());
    if (!v.empty()) guest[field] = v;
  }
  HERALD_ASSIGN_OR_RETURN(std::string event_id, d["event"]["id"].Text());
  if (!event_id.empty()) event["id"] = event_id;
  if (!date.empty()) event["event_date"] = date;
  if (d["template"].present()) {
    json::object tpl;
    for (const char* field : {"id", "name", "design"}) {
      HERALD_ASSIGN_OR_RETURN(std::string v, d["template"][field].Text());
      tpl[field] = v;
    }
    out["template"] = std::move(tpl);
  }
  json::object ticket;
  HERALD_ASSIGN_OR_RETURN(std::string code, d["ticket"]["code"].Text(true));
  HERALD_ASSIGN_OR_RETURN(std::string type, d["ticket"]["type"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string seat, d["ticket"]["seat"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string qr, d["ticket"]["qrCodeData"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string currency, d["ticket"]["currency"].Text());
  HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> price, d["ticket"]["price"].Cents());
  if (qr.size() > 1000) return d["ticket"]["qrCodeData"].Error("longer than 1000 bytes");
  ticket["code"] = code;
  ticket["type"] = type;
  ticket["seat"] = seat;
  ticket["qr"] = qr.empty() ? code : qr;
  if (price.has_value()) {
    ticket["price"] = FormatMoney(*price, currency.empty() ? "EUR" : currency, l.fr ? "fr" : "en");
  }
  HERALD_ASSIGN_OR_RETURN(std::string organizer, d["organizer"]["name"].Text());
  out["organizer"] = organizer;
  out["event"] = std::move(event);
  out["guest"] = std::move(guest);
  out["ticket"] = std::move(ticket);
  PreparedDocument p;
  p.filename = StrCat("ticket-", code, ".pdf");
  p.title = StrCat(title, " — ", code);
  p.data = std::move(out);
  return p;
}

Result<PreparedDocument> Invoice(const In& d, Locale l) {
  const std::string loc = l.fr ? "fr" : "en";
  json::object invoice;
  HERALD_ASSIGN_OR_RETURN(std::string number, d["invoice"]["number"].Text(true));
  HERALD_ASSIGN_OR_RETURN(std::string currency, d["invoice"]["currency"].Text());
  if (currency.empty()) currency = "EUR";
  HERALD_ASSIGN_OR_RETURN(std::string issue, d["invoice"]["issueDate"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string due, d["invoice"]["dueDate"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string status, d["invoice"]["status"].Text());
  HERALD_ASSIGN_OR_RETURN(absl::TimeZone zone, Zone(d["invoice"]["timezone"]));
  // Prices as the buyer pays them, VAT included (B2C), or before VAT (the default).
  const In gross_in = d["invoice"]["pricesIncludeVat"];
  if (gross_in.present() && !gross_in.get()->is_bool()) return gross_in.Error("expected a boolean");
  const bool gross = gross_in.present() && gross_in.get()->as_bool();
  invoice["number"] = number;
  invoice["issueDate"] = FormatDate(issue, zone, l);
  invoice["dueDate"] = FormatDate(due, zone, l);
  invoice["paid"] = status == "paid";
  invoice["kind"] = status == "paid" ? (l.fr ? "Reçu" : "Receipt") : (l.fr ? "Facture" : "Invoice");
  json::object out;
  for (const char* party : {"seller", "buyer"}) {
    json::object o;
    for (const char* key : {"name", "address", "email", "vatNumber"}) {
      HERALD_ASSIGN_OR_RETURN(std::string v, d[party][key].Text(std::string_view(key) == "name"));
      o[key] = v;
    }
    out[party] = std::move(o);
  }
  HERALD_ASSIGN_OR_RETURN(const json::array* items, d["items"].Array(true));
  if (items->empty()) return d["items"].Error("at least one item");
  json::array rows;
  int64_t subtotal = 0;
  std::map<int64_t, int64_t> base_by_rate;  // VAT rate in hundredths of a percent → base
  for (size_t i = 0; i < items->size(); ++i) {
    const In item(&(*items)[i], StrCat(d["items"].path(), "[", i, "]"));
    HERALD_ASSIGN_OR_RETURN(std::string description, item["description"].Text(true));
    HERALD_ASSIGN_OR_RETURN(double quantity, item["quantity"].Number(1, 0, 1e9));
    HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> unit, item["unitPrice"].Cents());
    if (!unit.has_value()) return item["unitPrice"].Error("required");
    HERALD_ASSIGN_OR_RETURN(double rate, item["vatRate"].Number(0, 0, 100));
    const double exact = quantity * static_cast<double>(*unit);
    if (std::fabs(exact) > kMaxCents ||
        std::fabs(static_cast<double>(subtotal) + exact) > kMaxCents) {
      return item["quantity"].Error("the amount is too large (at most 100 billion)");
    }
    const int64_t line = std::llround(exact);
    subtotal += line;
    int64_t& base = base_by_rate[std::llround(rate * 100)];
    if (std::fabs(static_cast<double>(base) + static_cast<double>(line)) > kMaxCents) {
      return item["quantity"].Error("the amount is too large (at most 100 billion)");
    }
    base += line;
    json::object row;
    row["description"] = description;
    row["quantity"] = Decimal(quantity, l);
    row["unitPrice"] = FormatMoney(*unit, currency, loc);
    row["vatRate"] = StrCat(Decimal(rate, l), "\u00A0%");
    row["lineTotal"] = FormatMoney(line, currency, loc);
    rows.push_back(std::move(row));
  }
  json::array vat_lines;
  int64_t vat_total = 0;
  for (const auto& [rate, base] : base_by_rate) {
    if (rate == 0) continue;
    // Rounded half away from zero: of the net base, or the part of a gross amount that is VAT.
    const int64_t divisor = gross ? 10000 + rate : 10000;
    const int64_t vat = (base * rate + (base >= 0 ? divisor / 2 : -divisor / 2)) / divisor;
    vat_total += vat;
    json::object v;
    v["label"] = StrCat(l.fr ? "TVA " : "VAT ", Decimal(rate / 100.0, l), "\u00A0%");
    v["amount"] = FormatMoney(vat, currency, loc);
    vat_lines.push_back(std::move(v));
  }
  // With gross prices the lines already hold the VAT: the total is their sum.
  const int64_t net = gross ? subtotal - vat_total : subtotal;
  json::object totals;
  totals["subtotal"] = FormatMoney(net, currency, loc);
  totals["vat"] = std::move(vat_lines);
  totals["total"] = FormatMoney(net + vat_total, currency, loc);
  totals["totalCents"] = net + vat_total;
  invoice["pricesIncludeVat"] = gross;
  HERALD_ASSIGN_OR_RETURN(std::string notes, d["notes"].Text());
  out["invoice"] = std::move(invoice);
  out["items"] = std::move(rows);
  out["totals"] = std::move(totals);
  out["notes"] = notes;
  PreparedDocument p;
  p.filename = StrCat("invoice-", number, ".pdf");
  p.title = StrCat(l.fr ? "Facture " : "Invoice ", number);
  p.data = std::move(out);
  return p;
}

Result<PreparedDocument> Booking(const In& d, Audience audience, Locale l) {
  const std::string loc = l.fr ? "fr" : "en";
  HERALD_ASSIGN_OR_RETURN(absl::TimeZone zone, Zone(d["booking"]["timezone"]));
  json::object booking;
  HERALD_ASSIGN_OR_RETURN(std::string reference, d["booking"]["reference"].Text(true));
  for (const char* key : {"serviceType", "serviceTime", "status", "notes"}) {
    HERALD_ASSIGN_OR_RETURN(std::string v, d["booking"][key].Text());
    booking[key] = v;
  }
  HERALD_ASSIGN_OR_RETURN(std::string date, d["booking"]["serviceDate"].Text());
  booking["reference"] = reference;
  booking["serviceDate"] = FormatDate(date, zone, l);
  if (audience == Audience::kInternalStaff) {
    HERALD_ASSIGN_OR_RETURN(std::string internal, d["booking"]["internalNotes"].Text());
    booking["internalNotes"] = internal;
  }
  json::object customer;
  HERALD_ASSIGN_OR_RETURN(std::string first, d["customer"]["firstName"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string last, d["customer"]["lastName"].Text());
  customer["name"] = std::string(ToStd(absl::StripAsciiWhitespace(StrCat(first, " ", last))));
  for (const char* key : {"email", "phone"}) {
    HERALD_ASSIGN_OR_RETURN(std::string v, d["customer"][key].Text());
    customer[key] = v;
  }
  std::string address;
  if (d["customer"]["address"].present() && d["customer"]["address"].get()->is_object()) {
    std::vector<std::string> parts;
    for (const char* key : {"street", "postalCode", "city", "country"}) {
      HERALD_ASSIGN_OR_RETURN(std::string v, d["customer"]["address"][key].Text());
      if (!v.empty()) parts.push_back(v);
    }
    address = absl::StrJoin(parts, ", ");
  } else {
    HERALD_ASSIGN_OR_RETURN(address, d["customer"]["address"].Text());
  }
  customer["address"] = address;
  HERALD_ASSIGN_OR_RETURN(std::string currency, d["quote"]["currency"].Text());
  if (currency.empty()) currency = "EUR";
  json::object quote;
  HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> estimated, d["quote"]["estimatedAmount"].Cents());
  HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> total, d["quote"]["total"].Cents());
  if (estimated) quote["estimatedAmount"] = FormatMoney(*estimated, currency, loc);
  if (total) quote["total"] = FormatMoney(*total, currency, loc);
  json::object payment;
  HERALD_ASSIGN_OR_RETURN(std::string pay_status, d["payment"]["status"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string method, d["payment"]["method"].Text());
  HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> paid, d["payment"]["amount"].Cents());
  payment["status"] = pay_status;
  payment["method"] = method;
  if (paid) payment["amount"] = FormatMoney(*paid, currency, loc);
  json::object out;
  out["booking"] = std::move(booking);
  out["customer"] = std::move(customer);
  out["quote"] = std::move(quote);
  out["payment"] = std::move(payment);
  PreparedDocument p;
  p.filename = StrCat("booking-", reference, ".pdf");
  p.title = StrCat(l.fr ? "Réservation " : "Booking ", reference);
  p.data = std::move(out);
  return p;
}

// Built from an allow-list only: nothing else of the caller's data is read.
Result<PreparedDocument> Mission(const In& d, Locale l) {
  const std::string loc = l.fr ? "fr" : "en";
  HERALD_ASSIGN_OR_RETURN(absl::TimeZone zone, Zone(d["booking"]["timezone"]));
  json::object booking;
  HERALD_ASSIGN_OR_RETURN(std::string reference, d["booking"]["reference"].Text(true));
  HERALD_ASSIGN_OR_RETURN(std::string service, d["booking"]["serviceType"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string date, d["booking"]["serviceDate"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string time, d["booking"]["serviceTime"].Text());
  booking["reference"] = reference;
  booking["serviceType"] = service;
  booking["serviceDate"] = FormatDate(date, zone, l);
  booking["serviceTime"] = time;

  const In limited = d["limitedClientData"];
  HERALD_ASSIGN_OR_RETURN(std::string first, d["customer"]["firstName"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string last, d["customer"]["lastName"].Text());
  if (first.empty() && last.empty()) {
    HERALD_ASSIGN_OR_RETURN(first, limited["customerName"].Text());
  }
  std::string city;
  HERALD_ASSIGN_OR_RETURN(city, d["customer"]["address"]["city"].Text());
  if (city.empty()) {
    HERALD_ASSIGN_OR_RETURN(std::string pickup, limited["pickupAddress"].Text());
    city = CityOf(pickup);
  }
  HERALD_ASSIGN_OR_RETURN(std::string currency, d["quote"]["currency"].Text());
  if (currency.empty()) currency = "EUR";
  HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> estimated, d["quote"]["estimatedAmount"].Cents());
  if (!estimated.has_value()) {
    HERALD_ASSIGN_OR_RETURN(estimated, limited["quoteDetails"]["estimatedAmount"].Cents());
  }
  HERALD_ASSIGN_OR_RETURN(std::string accept, d["acceptUrl"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string refuse, d["refuseUrl"].Text());
  HERALD_RETURN_IF_ERROR(CheckUrl(d["acceptUrl"], accept));
  HERALD_RETURN_IF_ERROR(CheckUrl(d["refuseUrl"], refuse));
  HERALD_ASSIGN_OR_RETURN(std::string timeout, d["timeoutDate"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string company, d["professional"]["companyName"].Text());

  json::object out;
  out["booking"] = std::move(booking);
  json::object customer;
  customer["name"] = AbbreviateName(first, last);
  out["customer"] = std::move(customer);
  json::object location;
  location["city"] = city;
  out["location"] = std::move(location);
  json::object quote;
  if (estimated) quote["estimatedAmount"] = FormatMoney(*estimated, currency, loc);
  out["quote"] = std::move(quote);
  json::object professional;
  professional["companyName"] = company;
  out["professional"] = std::move(professional);
  out["acceptUrl"] = accept;
  out["refuseUrl"] = refuse;
  out["timeoutDate"] = FormatDate(timeout, zone, l);
  PreparedDocument p;
  p.filename = StrCat("mission-", reference, ".pdf");
  p.title = StrCat(l.fr ? "Proposition de mission " : "Mission proposal ", reference);
  p.data = std::move(out);
  return p;
}

Result<PreparedDocument> Delta(const In& d, Locale l) {
  HERALD_ASSIGN_OR_RETURN(std::string source, d["report"]["source"].Text(true));
  HERALD_ASSIGN_OR_RETURN(std::string title, d["report"]["title"].Text());
  HERALD_ASSIGN_OR_RETURN(std::string synced, d["report"]["syncedAt"].Text());
  HERALD_ASSIGN_OR_RETURN(absl::TimeZone zone, Zone(d["report"]["timezone"]));
  json::object out;
  json::object report;
  report["source"] = source;
  report["title"] = title;
  report["syncedAt"] = FormatDate(synced, zone, l);
  size_t total = 0;
  for (const char* list : {"added", "changed", "removed"}) {
    HERALD_ASSIGN_OR_RETURN(const json::array* items, d[list].Array(false));
    json::array rows;
    if (items != nullptr) {
      for (size_t i = 0; i < items->size(); ++i) {
        const In item(&(*items)[i], StrCat(list, "[", i, "]"));
        json::object row;
        for (const char* key : {"id", "name", "field", "before", "after"}) {
          HERALD_ASSIGN_OR_RETURN(std::string v, item[key].Text(std::string_view(key) == "id"));
          row[key] = v;
        }
        rows.push_back(std::move(row));
      }
    }
    report[StrCat(list, "Count")] = rows.size();
    total += rows.size();
    out[list] = std::move(rows);
  }
  report["total"] = total;
  out["report"] = std::move(report);
  PreparedDocument p;
  std::string stamp;
  for (char c : synced.substr(0, 16)) {
    if ((c >= '0' && c <= '9') || c == 'T') stamp += c;
  }
  p.filename = stamp.empty() ? "delta-report.pdf" : StrCat("delta-report-", stamp, ".pdf");
  p.title = StrCat(l.fr ? "Rapport de synchronisation " : "Sync report ", source);
  p.data = std::move(out);
  return p;
}

// File names keep to [A-Za-z0-9._-]; anything else becomes '_'.
std::string CleanFilename(std::string name) {
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) c = '_';
  }
  if (name.size() > 120) name = name.substr(name.size() - 120);
  return name;
}

// Removes members whose value is "" (recursively), so that templates can test a value with a
// Mustache section ({{#seller.vatNumber}}…{{/seller.vatNumber}}): an empty string is truthy.
void DropEmpty(json::value& v) {
  if (json::object* o = v.if_object()) {
    for (auto it = o->begin(); it != o->end();) {
      if (it->value().is_string() && it->value().get_string().empty()) {
        it = o->erase(it);
      } else {
        DropEmpty(it->value());
        ++it;
      }
    }
  } else if (json::array* a = v.if_array()) {
    for (json::value& e : *a) DropEmpty(e);
  }
}

}  // namespace

Result<DocumentType> ParseDocumentType(std::string_view name) {
  const std::string upper = absl::AsciiStrToUpper(ToAbsl(name));
  for (const auto& [n, t] : kTypes) {
    if (n == upper) return t;
  }
  return absl::InvalidArgumentError(
      StrCat("unknown document type '", name,
             "' (TICKET, INVOICE, BOOKING_CONFIRMATION, MISSION_PROPOSAL, DELTA_REPORT)"));
}

std::string_view DocumentTypeName(DocumentType type) {
  for (const auto& [n, t] : kTypes) {
    if (t == type) return n;
  }
  return "";
}

Result<Audience> ParseAudience(std::string_view name) {
  const std::string upper = absl::AsciiStrToUpper(ToAbsl(name));
  for (const auto& [n, a] : kAudiences) {
    if (n == upper) return a;
  }
  return absl::InvalidArgumentError(
      StrCat("unknown target '", name, "' (INTERNAL_STAFF, CUSTOMER, EXTERNAL_PROVIDER)"));
}

std::string_view AudienceName(Audience audience) {
  for (const auto& [n, a] : kAudiences) {
    if (a == audience) return n;
  }
  return "";
}

bool AudienceMayReceive(Audience audience, DocumentType type) {
  switch (audience) {
    case Audience::kInternalStaff:
      return true;
    case Audience::kCustomer:
      return type == DocumentType::kTicket || type == DocumentType::kInvoice ||
             type == DocumentType::kBookingConfirmation;
    case Audience::kExternalProvider:
      return type == DocumentType::kMissionProposal;
  }
  return false;
}

std::string FormatMoney(int64_t cents, std::string_view currency, std::string_view locale) {
  const bool fr = locale != "en";
  const bool negative = cents < 0;
  const uint64_t abs = negative ? 0 - static_cast<uint64_t>(cents) : static_cast<uint64_t>(cents);
  std::string units = StrCat(abs / 100);
  std::string grouped;
  for (size_t i = 0; i < units.size(); ++i) {
    if (i > 0 && (units.size() - i) % 3 == 0) grouped += fr ? "\u00A0" : ",";
    grouped += units[i];
  }
  const std::string frac = TwoDigits(static_cast<int>(abs % 100));
  const std::string number = StrCat(negative ? "-" : "", grouped, fr ? "," : ".", frac);
  std::string symbol;
  if (currency == "EUR") {
    symbol = "€";
  } else if (currency == "USD") {
    symbol = "$";
  } else if (currency == "GBP") {
    symbol = "£";
  } else if (currency == "CHF") {
    symbol = "CHF";
  } else {
    symbol = std::string(currency);
  }
  if (fr || (symbol != "€" && symbol.size() > 2)) return StrCat(number, "\u00A0", symbol);
  return StrCat(negative ? "-" : "", symbol, number.substr(negative ? 1 : 0));  // -€1,250.50
}

Result<PreparedDocument> PrepareDocument(DocumentType type, Audience audience,
                                         const json::value& data, std::string_view locale) {
  if (!AudienceMayReceive(audience, type)) {
    return absl::PermissionDeniedError(
        StrCat("a ", DocumentTypeName(type), " cannot be made for ", AudienceName(audience)));
  }
  if (locale != "fr" && locale != "en") {
    return absl::InvalidArgumentError("locale: expected fr or en");
  }
  if (!data.is_object()) return absl::InvalidArgumentError("data: expected an object");
  const Locale l{locale == "fr"};
  const In d(&data, "");
  Result<PreparedDocument> p = absl::InternalError("unknown document type");
  switch (type) {
    case DocumentType::kTicket:
      p = Ticket(d, l);
      break;
    case DocumentType::kInvoice:
      p = Invoice(d, l);
      break;
    case DocumentType::kBookingConfirmation:
      p = Booking(d, audience, l);
      break;
    case DocumentType::kMissionProposal:
      p = Mission(d, l);
      break;
    case DocumentType::kDeltaReport:
      p = Delta(d, l);
      break;
  }
  if (!p.ok()) return p;
  DropEmpty(p->data);
  p->data.as_object()["labels"] = Labels(l);
  p->filename = CleanFilename(p->filename);
  return p;
}

}  // namespace herald::docs
