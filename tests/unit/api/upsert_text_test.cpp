// ParseUpsertText against the DOM path (ParseJsonBody + ParseUpsert): whatever the text decoder
// returns must be exactly what the DOM path returns, and it must decode the bodies clients send.

#include <charconv>
#include <optional>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "api/json_util.h"
#include "api/points_codec.h"

namespace tessera::api {
namespace {

Result<engine::UpsertOp> Dom(std::string_view body) {
  TESSERA_ASSIGN_OR_RETURN(json::value parsed, ParseJsonBody(body));
  return ParseUpsert(parsed);
}

// The oracle: a body the text decoder takes is one the DOM path takes, with the same result.
void ExpectAgrees(std::string_view body) {
  const std::optional<engine::UpsertOp> text = ParseUpsertText(body);
  if (!text) {
    return;
  }
  const Result<engine::UpsertOp> dom = Dom(body);
  ASSERT_TRUE(dom.ok()) << body << "\n" << dom.status().ToString();
  EXPECT_TRUE(*text == *dom) << body;
}

// Decoded by the text path, equal to the DOM path's result.
void ExpectDecoded(std::string_view body) {
  const std::optional<engine::UpsertOp> text = ParseUpsertText(body);
  ASSERT_TRUE(text.has_value()) << body;
  const Result<engine::UpsertOp> dom = Dom(body);
  ASSERT_TRUE(dom.ok()) << dom.status().ToString();
  EXPECT_TRUE(*text == *dom) << body;
}

TEST(UpsertTextTest, DecodesWhatClientsSend) {
  ExpectDecoded(R"({"points":[]})");
  ExpectDecoded(R"({"points":[{"id":1,"vector":[0.5,-1,2e-3,3E+2,-0.0,7]}]})");
  ExpectDecoded(
      R"( { "points" : [ { "id" : 18446744073709551615 , "vector" : [ 1 , 2 ] , "payload" : null } ] } )"
      "\n");
  ExpectDecoded(
      R"({"points":[{"id":"6f1c2a8e-7b3d-4c5e-9f00-112233445566","vector":[1,2,3],)"
      R"("payload":{"city":"Berlin","n":[1,2.5,-3,{"deep":[true,false,null]}],"s":"a\"b\\c\u00e9\n"}}]})");
  ExpectDecoded(R"({"points":[{"id":2,"vectors":[1,2]}]})");  // the alias
  ExpectDecoded(R"({"points":[{"id":3,"vector":{"img":[1,2,3],"txt":[0.5,0.25]}},)"
                R"({"id":4,"vector":{}}]})");
  // Escaped keys come to the handler in pieces when they are long; they still match.
  ExpectDecoded(R"({"\u0070oints":[{"\u0069d":6,"vec\u0074or":[1]}]})");

  // The columnar batch, in any key order, unnamed or named, with or without payloads.
  ExpectDecoded(
      R"({"batch":{"ids":[1,"6f1c2a8e-7b3d-4c5e-9f00-112233445566"],"vectors":[[1,2],[3,4]]}})");
  ExpectDecoded(
      R"({"batch":{"payloads":[{"a":1},null],"vectors":{"x":[[1],[2]],"y":[[3,4],[5,6]]},)"
      R"("ids":[5,6]}})");
  ExpectDecoded(R"({"batch":{"ids":[],"vectors":[],"payloads":null}})");
  ExpectDecoded(R"({"batch":{"ids":[1],"vectors":{}}})");

  const std::optional<engine::UpsertOp> op = ParseUpsertText(
      R"({"points":[{"id":7,"vector":[0.1,2],"payload":{"a":1}},{"id":8,"vector":{"v":[3]}}]})");
  ASSERT_TRUE(op.has_value());
  ASSERT_EQ(op->points.size(), 2u);
  EXPECT_EQ(op->points[0].id, engine::PointId::Num(7));
  EXPECT_EQ(op->points[0].vectors.at(""), (engine::VectorInput{engine::DenseVector{0.1f, 2.0f}}));
  EXPECT_EQ(op->points[0].payload.at("a").as_int64(), 1);
  EXPECT_EQ(op->points[1].vectors.at("v"), (engine::VectorInput{engine::DenseVector{3.0f}}));
  EXPECT_TRUE(op->points[1].payload.empty());
}

TEST(UpsertTextTest, LeavesEverythingElseToTheDomPath) {
  const char* bodies[] = {
      "",
      "   ",
      "[]",
      "null",
      R"({})",
      R"({"points":null})",
      R"({"points":{}})",
      R"({"points":[1]})",
      R"({"points":[{"id":1,"vector":[1]}]} x)",
      R"({"points":[{"id":1,"vector":[1]}],})",
      R"({"points":[{"id":1,"vector":[1]}]})"
      "\x01",
      R"({"points":[],"batch":{"ids":[1],"vectors":[[1]]}})",
      R"({"batch":{"ids":[1],"vectors":[[1]]},"points":[]})",
      R"({"batch":[]})",
      R"({"batch":{"vectors":[[1]]}})",
      R"({"batch":{"ids":[1]}})",
      R"({"batch":{"ids":null,"vectors":[[1]]}})",
      R"({"batch":{"ids":[1],"vectors":null}})",
      R"({"batch":{"ids":[1,2],"vectors":[[1]]}})",
      R"({"batch":{"ids":[1],"vectors":{"a":[[1]],"b":[]}}})",
      R"({"batch":{"ids":[1],"vectors":{"a":[[1]],"a":[[2]]}}})",
      R"({"batch":{"ids":[1],"vectors":[[1]],"payloads":[]}})",
      R"({"batch":{"ids":[1],"vectors":[[1]],"payloads":[3]}})",
      R"({"batch":{"ids":[1],"vectors":[[1]],"payloads":{}}})",
      R"({"batch":{"ids":[-1],"vectors":[[1]]}})",
      R"({"batch":{"ids":[1],"vectors":[1]}})",
      R"({"batch":{"ids":[1],"vectors":[["x"]]}})",
      R"({"batch":{"ids":[1],"ids":[1],"vectors":[[1]]}})",
      R"({"points":[],"points":[]})",
      R"({"points":[{"id":1,"id":2,"vector":[1]}]})",
      R"({"points":[{"id":1,"vector":[1],"vectors":[2]}]})",
      R"({"points":[{"id":1,"vector":{"a":[1],"a":[2]}}]})",
      R"({"points":[{"id":1,"vector":[1],"payload":{},"payload":{}}]})",
      R"({"points":[{"vector":[1]}]})",
      R"({"points":[{"id":1}]})",
      R"({"points":[{"id":null,"vector":[1]}]})",
      R"({"points":[{"id":1,"vector":null}]})",
      R"({"points":[{"id":-1,"vector":[1]}]})",
      R"({"points":[{"id":1.5,"vector":[1]}]})",
      R"({"points":[{"id":"not-a-uuid","vector":[1]}]})",
      R"({"points":[{"id":true,"vector":[1]}]})",
      R"({"points":[{"id":1,"vector":[[1]]}]})",
      R"({"points":[{"id":1,"vector":["1"]}]})",
      R"({"points":[{"id":1,"vector":[null]}]})",
      R"({"points":[{"id":1,"vector":[1e39]}]})",
      R"({"points":[{"id":1,"vector":[-1e39]}]})",
      R"({"points":[{"id":1,"vector":[1e999]}]})",
      R"({"points":[{"id":1,"vector":"1,2"}]})",
      R"({"points":[{"id":1,"vector":{"a":{"indices":[1],"values":[1]}}}]})",
      R"({"points":[{"id":1,"vector":{"a":1}}]})",
      R"({"points":[{"id":1,"vector":[1],"payload":[]}]})",
      R"({"points":[{"id":1,"vector":[1],"payload":"x"}]})",
      R"({"points":[{"id":1,"vector":[1],"payload":1}]})",
      R"({"points":[{"id":1,"vector":[1,]}]})",
      R"({"points":[{"id":1,"vector":[01]}]})",
      R"({"points":[{"id":1,"vector":[NaN]}]})",
      R"({"points":[{"id":1,"vector":[1] /* c */}]})",
      R"({"points":[{"id":1,"vector":[1]})",
  };
  for (const char* body : bodies) {
    EXPECT_FALSE(ParseUpsertText(body).has_value()) << body;
  }
  // Keys it does not know, or reads only when null: declined here; the DOM path refuses the
  // unknown ones (a write never drops what it cannot read) and takes the null ones.
  const char* refused[] = {
      R"({"shard_key":"a","points":[{"id":5,"vector":[1]}]})",
      R"({"points":[{"id":5,"vector":[1]}],"tail":[1,2,{"k":"v"}]})",
      R"({"points":[{"id":5,"extra":{"x":[1,{"y":null}]},"vector":[1]}]})",
      R"({"points":[{"id":5,"vector":[1],"z":null}]})",
      R"({"batch":{"ids":[5],"vectors":[[1]],"other":[1]}})",
      R"({"points":[{"id":5,"vector":[1]}],"update_filter":{"must":[]}})",
      R"({"points":[{"id":5,"vector":[1]}],"update_mode":"insert_only"})",
  };
  for (const char* body : refused) {
    EXPECT_FALSE(ParseUpsertText(body).has_value()) << body;
    EXPECT_FALSE(Dom(body).ok()) << body;
  }
  const char* taken_by_dom[] = {
      R"({"shard_key":null,"points":[{"id":5,"vector":[1]}]})",
      R"({"points":[{"id":5,"vector":[1]}],"update_filter":null,"update_mode":"upsert"})",
  };
  for (const char* body : taken_by_dom) {
    EXPECT_FALSE(ParseUpsertText(body).has_value()) << body;
    EXPECT_TRUE(Dom(body).ok()) << body;
  }
  // Nested past the DOM path's depth limit inside a payload: both refuse.
  std::string deep = R"({"points":[{"id":1,"vector":[1],"payload":{"a":)";
  for (int i = 0; i < 70; ++i)
    deep += "[";
  for (int i = 0; i < 70; ++i)
    deep += "]";
  deep += "}}]}";
  EXPECT_FALSE(ParseUpsertText(deep).has_value());
  EXPECT_FALSE(Dom(deep).ok());
}

// Random bodies: valid ones built from pieces, then damaged by flipping, deleting and copying
// bytes. Every body the text decoder takes must agree with the DOM path.
TEST(UpsertTextTest, AgreesWithTheDomPathOnRandomBodies) {
  std::mt19937_64 rng(20261201);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const char* ids[] = {"0",     "42",  "18446744073709551615",
                       "-3",    "1.0", "\"6f1c2a8e-7b3d-4c5e-9f00-112233445566\"",
                       "\"x\"", "null"};
  const char* payloads[] = {"null",
                            "{}",
                            R"({"a":1,"b":[1,"x",{"c":null}]})",
                            R"({"a":{"a":{"a":2}}})",
                            R"({"s":"\u00e9\t\\"})",
                            "[]",
                            "3"};
  auto number = [&]() -> std::string {
    switch (pick(6)) {
      case 0:
        return std::to_string(static_cast<int>(pick(2000)) - 1000);
      case 1:
        return "1e" + std::to_string(static_cast<int>(pick(90)) - 45);
      default: {
        char buf[32];
        const float f = std::uniform_real_distribution<float>(-2, 2)(rng);
        return std::string(buf, std::to_chars(buf, buf + sizeof(buf), f).ptr);
      }
    }
  };
  auto vector = [&] {
    std::string v = "[";
    const size_t n = 1 + pick(6);
    for (size_t i = 0; i < n; ++i)
      v += (i ? "," : "") + number();
    return v + "]";
  };
  size_t decoded = 0, decoded_columnar = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string body = R"({"points":[)";
    const size_t points = pick(4);
    const bool columnar = pick(3) == 0;
    if (columnar) {
      std::string ids_list = "[", vectors_list = "[", payload_list = "[";
      const size_t n = points + (pick(6) == 0 ? 1 : 0);  // sometimes one id too many
      for (size_t p = 0; p < n; ++p) {
        ids_list += (p ? "," : "") + std::string(ids[pick(3) == 0 ? pick(8) : pick(3)]);
      }
      for (size_t p = 0; p < points; ++p) {
        vectors_list += (p ? "," : "") + vector();
        payload_list += (p ? "," : "") + std::string(payloads[pick(7)]);
      }
      body = R"({"batch":{"ids":)" + ids_list + R"(],"vectors":)" +
             (pick(3) == 0 ? R"({"a":)" + vectors_list + "]}" : vectors_list + "]") +
             (pick(2) == 0 ? R"(,"payloads":)" + payload_list + "]" : "") + "}}";
    } else {
      for (size_t p = 0; p < points; ++p) {
        body += p ? "," : "";
        body += R"({"id":)" + std::string(ids[pick(3) == 0 ? pick(8) : pick(3)]);
        body += pick(4) == 0 ? R"(,"vector":{"a":)" + vector() + R"(,"b":)" + vector() + "}"
                             : R"(,"vector":)" + vector();
        if (pick(2) == 0)
          body += R"(,"payload":)" + std::string(payloads[pick(7)]);
        if (pick(5) == 0)
          body += R"(,"other":)" + vector();
        body += "}";
      }
      body += "]}";
    }
    const int damage = pick(3) == 0 ? static_cast<int>(1 + pick(3)) : 0;
    for (int d = 0; d < damage && !body.empty(); ++d) {
      const size_t at = pick(body.size());
      switch (pick(3)) {
        case 0:
          body[at] = static_cast<char>(" ,:[]{}\"0-e.\\n"[pick(14)]);
          break;
        case 1:
          body.erase(at, 1 + pick(3));
          break;
        default:
          body.insert(at, body.substr(pick(body.size()), pick(8)));
      }
    }
    ExpectAgrees(body);
    const bool taken = ParseUpsertText(body).has_value();
    decoded += taken;
    decoded_columnar += taken && columnar;
  }
  EXPECT_GT(decoded, 500u);  // the oracle saw real decodes, not only refusals
  EXPECT_GT(decoded_columnar, 100u);
}

}  // namespace
}  // namespace tessera::api
