#include "server/request_params.h"

#include <gtest/gtest.h>

#include <string>

namespace slipway {
namespace {

using nlohmann::json;

json Nest(const std::string& query) {
  HttpRequest req;
  ParseTarget("/x?" + query, &req);
  FormParams form = ParseFormParams(req.query);
  EXPECT_EQ(form.error, ParamsError::kNone) << query << ": " << form.message;
  return form.params;
}

std::string NestError(const std::string& query) {
  HttpRequest req;
  ParseTarget("/x?" + query, &req);
  FormParams form = ParseFormParams(req.query);
  EXPECT_EQ(form.error, ParamsError::kBadRequest) << query;
  return form.message;
}

// What Rack 3's parse_nested_query makes of each (its README's examples and
// GitLab's variables[][key] form).
TEST(FormParamsTest, NestsAsRackDoes) {
  EXPECT_EQ(Nest("a=1&b=x+y"), json({{"a", "1"}, {"b", "x y"}}));
  EXPECT_EQ(Nest("a[b]=1&a[c]=2"), json({{"a", {{"b", "1"}, {"c", "2"}}}}));
  EXPECT_EQ(Nest("a[b][c]=1"), json({{"a", {{"b", {{"c", "1"}}}}}}));
  EXPECT_EQ(Nest("a[]=1&a[]=2"), json({{"a", {"1", "2"}}}));
  EXPECT_EQ(Nest("v[][key]=K1&v[][value]=V1&v[][key]=K2&v[][value]=V2"),
            json::parse(R"({"v":[{"key":"K1","value":"V1"},{"key":"K2","value":"V2"}]})"));
  EXPECT_EQ(Nest("a[][]=1"), json::parse(R"({"a":[["1"]]})"));
  EXPECT_EQ(Nest("a[][b][c]=1&a[][b][d]=2"), json::parse(R"({"a":[{"b":{"c":"1","d":"2"}}]})"));
  EXPECT_EQ(Nest("a[][b][c]=1&a[][b][c]=2"),
            json::parse(R"({"a":[{"b":{"c":"1"}},{"b":{"c":"2"}}]})"));
  EXPECT_EQ(Nest("[]=x&[a]=y&=z&a[=w"), json::parse(R"({"[]":"x","[a]":"y","a[":"w"})"));
  EXPECT_EQ(Nest("scope[]=running&scope[]=pending"),
            json::parse(R"({"scope":["running","pending"]})"));
}

TEST(FormParamsTest, ConflictingTypesAreAnError) {
  EXPECT_EQ(NestError("a=1&a[b]=2"), "expected Hash (got String) for param `a'");
  EXPECT_EQ(NestError("a[b]=1&a[]=2"), "expected Array (got Hash) for param `a'");
  EXPECT_EQ(NestError("a[]=1&a[b]=2"), "expected Hash (got Array) for param `a'");
}

std::string DeepKey(int groups, const std::string& group = "[b]") {
  std::string key = "a";
  for (int i = 0; i < groups; ++i) key += group;
  return key;
}

// Rack's param_depth_limit (32): a name and up to 31 bracket groups.
TEST(FormParamsTest, NestingIsBounded) {
  EXPECT_EQ(ParseFormParams({{DeepKey(31), "1"}}).error, ParamsError::kNone);
  EXPECT_EQ(ParseFormParams({{DeepKey(32), "1"}}).error, ParamsError::kTooDeep);
  EXPECT_EQ(ParseFormParams({{DeepKey(100000), "1"}}).error, ParamsError::kTooDeep);
  EXPECT_EQ(ParseFormParams({{DeepKey(100000, "[]"), "1"}}).error, ParamsError::kTooDeep);
  EXPECT_EQ(ParseFormParams({{DeepKey(50000, "[][x]"), "1"}}).error, ParamsError::kTooDeep);
}

HttpRequest Request(const std::string& target, const std::string& body,
                    const std::string& content_type = "application/json") {
  HttpRequest req;
  req.method = "POST";
  ParseTarget(target, &req);
  req.headers["content-type"] = content_type;
  req.body = body;
  return req;
}

TEST(RequestParamsTest, QueryThenBodyWhichWins) {
  HttpResponse error;
  auto params = RequestParams(Request("/p?ref=q&a[b]=1", R"({"ref":"main","n":2})"), &error);
  ASSERT_TRUE(params) << error.body;
  EXPECT_EQ(*params, json::parse(R"({"ref":"main","n":2,"a":{"b":"1"}})"));
  params = RequestParams(Request("/p?ref=q", "ref=dev&variables[][key]=K&variables[][value]=V",
                                 "application/x-www-form-urlencoded; charset=utf-8"),
                         &error);
  ASSERT_TRUE(params) << error.body;
  EXPECT_EQ(*params, json::parse(R"({"ref":"dev","variables":[{"key":"K","value":"V"}]})"));
  EXPECT_EQ(ParamString(*params, "ref"), "dev");
  EXPECT_EQ(ParamString(*params, "variables"), "");
}

// The body that crashed `slipway serve` (a run token holder's POST nested
// 100,000 deep) and its form and query-string twins get GitLab's answer.
TEST(RequestParamsTest, TooDeepIsGitLabs400) {
  std::string deep_json = R"({"ref":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  for (const HttpRequest& req :
       {Request("/p", deep_json), Request("/p", R"({"a":)" + std::string(100000, '[')),
        Request("/p", DeepKey(100000) + "=1", "application/x-www-form-urlencoded"),
        Request("/p?" + DeepKey(40) + "=1", "")}) {
    HttpResponse error;
    EXPECT_FALSE(RequestParams(req, &error));
    EXPECT_EQ(error.status, 400);
    EXPECT_EQ(
        error.body,
        R"({"error":"Parameters nested too deeply","message":"400 Bad request - Parameters nested too deeply"})");
  }
  // 32 levels, the outer object included, are fine.
  std::string ok = R"({"a":)" + std::string(31, '[') + std::string(31, ']') + "}";
  HttpResponse error;
  EXPECT_TRUE(RequestParams(Request("/p", ok), &error)) << error.body;
}

TEST(RequestParamsTest, MalformedBodies) {
  HttpResponse error;
  EXPECT_FALSE(RequestParams(Request("/p", "{"), &error));
  EXPECT_EQ(error.body, R"({"message":"400 Bad request - the body is not valid JSON"})");
  EXPECT_FALSE(RequestParams(Request("/p", "[1]"), &error));
  EXPECT_EQ(error.body, R"({"message":"400 Bad request - the body must be a JSON object"})");
  EXPECT_FALSE(
      RequestParams(Request("/p", "a=1&a[b]=2", "application/x-www-form-urlencoded"), &error));
  EXPECT_EQ(error.body,
            R"({"message":"400 Bad request - expected Hash (got String) for param `a'"})");
  EXPECT_FALSE(RequestParams(Request("/p", "x", "multipart/form-data; boundary=b"), &error));
  EXPECT_EQ(error.status, 400);
  EXPECT_TRUE(RequestParams(Request("/p", " \r\n"), &error));
}

}  // namespace
}  // namespace slipway
