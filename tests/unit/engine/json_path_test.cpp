#include "engine/json_path.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "engine/payload.h"

namespace tessera::engine {
namespace {

namespace json = boost::json;
using Kind = JsonPathItem::Kind;

JsonPathItem Key(std::string k) { return {Kind::kKey, std::move(k), 0}; }
JsonPathItem Index(size_t i) { return {Kind::kIndex, {}, i}; }
JsonPathItem All() { return {Kind::kAll, {}, 0}; }

TEST(JsonPathTest, ParsesQdrantsGrammar) {
  EXPECT_EQ(ParseJsonPath("a"), (JsonPath{Key("a")}));
  EXPECT_EQ(ParseJsonPath("a.b_c-d.9"), (JsonPath{Key("a"), Key("b_c-d"), Key("9")}));
  EXPECT_EQ(ParseJsonPath("foo[1][50].bar-baz[].\"qux[.]quux\""),
            (JsonPath{Key("foo"), Index(1), Index(50), Key("bar-baz"), All(), Key("qux[.]quux")}));
  EXPECT_EQ(ParseJsonPath("\"a.b\"[2]"), (JsonPath{Key("a.b"), Index(2)}));
  EXPECT_EQ(ParseJsonPath("\"\""), (JsonPath{Key("")}));  // a quoted empty key
  EXPECT_EQ(ParseJsonPath("ключ.城市.x٣"), (JsonPath{Key("ключ"), Key("城市"), Key("x٣")}));
  EXPECT_EQ(ParseJsonPath("a[18446744073709551615]"),
            (JsonPath{Key("a"), Index(18446744073709551615ull)}));
}

TEST(JsonPathTest, RefusesWhatQdrantRefuses) {
  for (const char* bad : {"", "a..b", "a[", "a.", "a]", "[", "[0]", "[]", "a[-1]", "a[1.5]",
                          "a[ 1]", "a[99999999999999999999]", "a b", " a", "a ", ".a", "a.[0]",
                          "\"a", "a.\"b", "\"a\\\"b\"", "a\"b\"", "🙂", "a🙂", "a\xff", "a\tb",
                          "a,b", "a/b", "a[]x", "a[0]b"}) {
    EXPECT_FALSE(ParseJsonPath(bad).has_value()) << bad;
    Status s = CheckJsonPath(bad);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(s.message(), "Invalid json path: '" + std::string(bad) + "'");
  }
}

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(JsonPathTest, PayloadEditsFollowQdrantsValueSetAndRemove) {
  json::object p = Obj(R"({"list":[{"x":1},{"x":2}],"n":5})");
  SetPayloadAt(p, "list[1]", Obj(R"({"y":3})"));
  EXPECT_EQ(p.at("list"), json::parse(R"([{"x":1},{"x":2,"y":3}])"));
  SetPayloadAt(p, "list[]", Obj(R"({"z":0})"));
  EXPECT_EQ(p.at("list"), json::parse(R"([{"x":1,"z":0},{"x":2,"y":3,"z":0}])"));
  SetPayloadAt(p, "list[7]", Obj(R"({"z":1})"));  // past the end: nothing
  EXPECT_EQ(p.at("list").as_array().size(), 2u);
  SetPayloadAt(p, "n[0]", Obj(R"({"z":1})"));  // an index into a number makes an empty array
  EXPECT_EQ(p.at("n"), json::array());
  SetPayloadAt(p, "\"a.b\".c", Obj(R"({"k":1})"));  // a quoted key is one key
  EXPECT_EQ(p.at("a.b"), json::parse(R"({"c":{"k":1}})"));
  ReplacePayloadAt(p, "list[0]", Obj(R"({"only":1})"));
  EXPECT_EQ(p.at("list").as_array()[0], json::parse(R"({"only":1})"));

  DeletePayloadPath(p, "list[0]");  // removing one index is not supported, as in Qdrant
  EXPECT_EQ(p.at("list").as_array().size(), 2u);
  DeletePayloadPath(p, "list[1].y");
  EXPECT_EQ(p.at("list").as_array()[1], json::parse(R"({"x":2,"z":0})"));
  DeletePayloadPath(p, "\"a.b\"");
  EXPECT_FALSE(p.contains("a.b"));
  DeletePayloadPath(p, "list[]");  // empties the array
  EXPECT_EQ(p.at("list"), json::array());

  const json::object before = p;
  for (const char* bad : {"a..b", "list[", "", "n]"}) {
    if (*bad != '\0') {  // the empty path means "the top level" for set and replace
      SetPayloadAt(p, bad, Obj(R"({"q":1})"));
      ReplacePayloadAt(p, bad, Obj(R"({"q":1})"));
    }
    DeletePayloadPath(p, bad);
  }
  EXPECT_EQ(p, before);
}

}  // namespace
}  // namespace tessera::engine
