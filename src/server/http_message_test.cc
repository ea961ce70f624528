#include "server/http_message.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(HttpMessageTest, MakeHttpRequestFoldsHeadersAndSplitsTheTarget) {
  HttpRequest req = MakeHttpRequest("POST", "/api/v4/projects/a%2Fb?x=1+2&y=%41&x=3&flag",
                                    {{"Content-Type", "application/json"},
                                     {"X-Forwarded-For", "1.2.3.4"},
                                     {"x-forwarded-for", "5.6.7.8"}},
                                    "{}");
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/api/v4/projects/a%2Fb");
  EXPECT_EQ(req.Query("x"), "1 2");
  EXPECT_EQ(req.QueryAll("x"), (std::vector<std::string>{"1 2", "3"}));
  EXPECT_EQ(req.Query("y"), "A");
  EXPECT_EQ(req.Query("flag"), "");
  EXPECT_EQ(req.Query("none"), std::nullopt);
  EXPECT_EQ(req.Header("content-type"), "application/json");
  EXPECT_EQ(req.Header("x-forwarded-for"), "1.2.3.4, 5.6.7.8");
  EXPECT_EQ(req.body, "{}");
}

TEST(HttpMessageTest, PercentDecodingKeepsInvalidEscapes) {
  EXPECT_EQ(PercentDecode("%41%4a%zz%4%", false), "AJ%zz%4%");
  EXPECT_EQ(PercentDecode("a+b%2B", true), "a b+");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentEncode("a b/é~"), "a%20b%2F%C3%A9~");
}

TEST(HttpMessageTest, ParseFormSkipsEmptyParts) {
  auto form = ParseForm("&a=1&&b&=c&d=e=f&");
  ASSERT_EQ(form.size(), 4u);
  EXPECT_EQ(form[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(form[1], (std::pair<std::string, std::string>{"b", ""}));
  EXPECT_EQ(form[2], (std::pair<std::string, std::string>{"", "c"}));
  EXPECT_EQ(form[3], (std::pair<std::string, std::string>{"d", "e=f"}));
}

}  // namespace
}  // namespace slipway
