#include "docs/pdf.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "docs/testing/pdf_checks.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald::docs {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Cp1252Test, MapsFrenchAndRefusesTheRest) {
  std::string out;
  ASSERT_TRUE(ToCp1252("été « œuvre » — 25 €", out));
  EXPECT_EQ(out, "\xE9t\xE9 \xAB \x9Cuvre \xBB \x97 25 \x80");
  ASSERT_TRUE(ToCp1252("a\tb\nc\x01", out));
  EXPECT_EQ(out, "abc");
  EXPECT_FALSE(ToCp1252("Łódź", out));
  EXPECT_FALSE(ToCp1252("Москва", out));
  EXPECT_FALSE(ToCp1252("bad \xC3", out));
}

TEST(ParseRgbTest, ParsesHexAndRefusesGarbage) {
  auto c = ParseRgb("#ff8000");
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->r, 1.0);
  EXPECT_NEAR(c->g, 128 / 255.0, 1e-9);
  EXPECT_DOUBLE_EQ(c->b, 0.0);
  EXPECT_FALSE(ParseRgb("#ff80").ok());
  EXPECT_FALSE(ParseRgb("#gg0000").ok());
}

class PdfEngineTest : public ::testing::Test, protected testing::PdfChecks {
 protected:
  void SetUp() override {
    auto engine = PdfEngine::Create();
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }
  std::unique_ptr<PdfEngine> engine_;
};

TEST_F(PdfEngineTest, FrenchTextComesBackOutAndTheFileIsSound) {
  PdfInfo info{.title = "Billet — Été", .created = absl::FromUnixSeconds(1767225600)};
  auto pdf = engine_->Render(info, [](PdfCanvas& c) -> Status {
    HERALD_RETURN_IF_ERROR(c.NewPage(kTicketPage));
    c.Text(20, 40, "Festival d'été « Les Nuits » — Édition 2026", FontStyle::kBold, 18, {});
    c.Text(20, 70, "Théâtre du Châtelet, 89,00 € — Œuvre, façade, à bientôt", FontStyle::kRegular,
           11, {});
    c.StrokeRect(5, 5, 585, 270, 1, {0.5, 0.5, 0.5});
    c.Line(20, 80, 300, 80, 0.5, {});
    return absl::OkStatus();
  });
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  EXPECT_EQ(pdf->substr(0, 5), "%PDF-");
  const std::string text = Text(*pdf);
  EXPECT_THAT(text, HasSubstr("Festival d'été « Les Nuits » — Édition 2026"));
  EXPECT_THAT(text, HasSubstr("Théâtre du Châtelet, 89,00 € — Œuvre, façade, à bientôt"));
  ExpectQpdfClean(*pdf);
  EXPECT_LT(pdf->size(), 40'000u);
}

TEST_F(PdfEngineTest, TextBeyondWindows1252UsesTheFullFont) {
  auto pdf = engine_->Render({}, [](PdfCanvas& c) -> Status {
    HERALD_RETURN_IF_ERROR(c.NewPage(kA4));
    c.Text(40, 60, "Łódź — Zażółć gęślą jaźń", FontStyle::kRegular, 12, {});
    c.Text(40, 90, "Ελληνικά и кириллица", FontStyle::kBold, 12, {});
    c.Text(40, 120, "plain line", FontStyle::kRegular, 12, {});
    return absl::OkStatus();
  });
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string text = Text(*pdf);
  EXPECT_THAT(text, HasSubstr("Łódź — Zażółć gęślą jaźń"));
  EXPECT_THAT(text, HasSubstr("Ελληνικά и кириллица"));
  EXPECT_THAT(text, HasSubstr("plain line"));
  ExpectQpdfClean(*pdf);
}

TEST_F(PdfEngineTest, QrDrawnOnThePageDecodesWithZbar) {
  const std::string payload = "HT1.TKT-2026-000123.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g";
  auto qr = QrCode::Encode(payload);
  ASSERT_TRUE(qr.ok());
  auto pdf = engine_->Render({}, [&](PdfCanvas& c) -> Status {
    HERALD_RETURN_IF_ERROR(c.NewPage(kTicketPage));
    c.Qr(*qr, 400, 40, 170);
    return absl::OkStatus();
  });
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  EXPECT_EQ(DecodeQr(*pdf), payload);
}

TEST_F(PdfEngineTest, LinksImagesAndErrors) {
  auto qr = QrCode::Encode("logo");
  ASSERT_TRUE(qr.ok());
  auto png = RenderPng(*qr, {.module_px = 2, .quiet_zone = 1});
  ASSERT_TRUE(png.ok());
  auto pdf = engine_->Render({}, [&](PdfCanvas& c) -> Status {
    HERALD_RETURN_IF_ERROR(c.NewPage(kA4));
    HERALD_RETURN_IF_ERROR(c.Png(*png, 40, 40, 60, 60));
    EXPECT_EQ(c.Png("not a png", 40, 40, 10, 10).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(c.Png(std::string("\x89PNG\r\n\x1a\ngarbage", 15), 40, 40, 10, 10).code(),
              absl::StatusCode::kInvalidArgument);
    c.Text(40, 140, "Accepter", FontStyle::kBold, 12, {});
    c.Link(40, 128, 80, 16, "https://example.com/accept?t=a&b=c");
    return absl::OkStatus();
  });
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  ExpectQpdfClean(*pdf);
  // The link annotation, read back by qpdf with every stream uncompressed.
  const std::string qdf = Qdf(*pdf);
  EXPECT_THAT(qdf, HasSubstr("/URI (https://example.com/accept?t=a&b=c)"));
  EXPECT_THAT(qdf, HasSubstr("/Subtype /Image"));

  // A drawing error comes back as it is; an empty document is refused; the engine still works.
  auto failed = engine_->Render({}, [](PdfCanvas&) { return absl::InvalidArgumentError("no"); });
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInvalidArgument);
  auto empty = engine_->Render({}, [](PdfCanvas&) { return absl::OkStatus(); });
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  auto many = engine_->Render({}, [](PdfCanvas& c) -> Status {
    for (int i = 0; i <= kMaxPdfPages; ++i) HERALD_RETURN_IF_ERROR(c.NewPage(kA5));
    return absl::OkStatus();
  });
  EXPECT_EQ(many.status().code(), absl::StatusCode::kResourceExhausted);
  auto again = engine_->Render({}, [](PdfCanvas& c) { return c.NewPage(kA5); });
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST_F(PdfEngineTest, ConcurrentRendersAreIndependent) {
  std::vector<std::thread> threads;
  std::vector<std::string> texts(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto pdf = engine_->Render({}, [&](PdfCanvas& c) -> Status {
          HERALD_RETURN_IF_ERROR(c.NewPage(kTicketPage));
          c.Text(20, 40, "Fil " + std::to_string(t) + " — n° " + std::to_string(i),
                 FontStyle::kRegular, 12, {});
          return absl::OkStatus();
        });
        ASSERT_TRUE(pdf.ok()) << pdf.status();
        if (i == 19) texts[t] = *pdf;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_THAT(Text(texts[t]), HasSubstr("Fil " + std::to_string(t) + " — n° 19"));
  }
}

}  // namespace
}  // namespace herald::docs
