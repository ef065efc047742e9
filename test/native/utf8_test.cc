// Utf8Decoder against the WHATWG UTF-8 decoder written out byte by byte,
// whole and split at every point; validUtf8Prefix and utf16Length likewise.
#include "core/utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "utf8_reference.h"

namespace sse {
namespace {


std::string hex(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
    out += ' ';
  }
  return out;
}

// Decodes `in` cut at the sorted `cuts`, then finishes the stream.
std::string decodeWithCuts(std::string_view in,
                           const std::vector<size_t>& cuts) {
  Utf8Decoder decoder;
  std::string scratch;
  std::string out;
  size_t at = 0;
  auto step = [&](size_t end) {
    const Utf8Decoder::Output o =
        decoder.decode(in.data() + at, end - at, &scratch);
    EXPECT_TRUE(isValidUtf8(o.head.data(), o.head.size())) << hex(o.head);
    EXPECT_TRUE(isValidUtf8(o.body.data(), o.body.size())) << hex(o.body);
    out.append(o.head.data(), o.head.size());
    out.append(o.body.data(), o.body.size());
    at = end;
  };
  for (size_t cut : cuts) step(cut);
  step(in.size());
  const std::string_view tail = decoder.finish();
  out.append(tail.data(), tail.size());
  EXPECT_FALSE(decoder.hasPending());
  return out;
}

void expectDecodesLikeReference(std::string_view in) {
  const std::string want = refDecodeUtf8(in);
  SCOPED_TRACE("input " + hex(in));
  ASSERT_EQ(hex(decodeWithCuts(in, {})), hex(want));
  std::vector<size_t> every;
  for (size_t i = 1; i < in.size(); ++i) every.push_back(i);
  ASSERT_EQ(hex(decodeWithCuts(in, every)), hex(want));
  for (size_t cut = 0; cut <= in.size(); ++cut) {
    ASSERT_EQ(hex(decodeWithCuts(in, {cut})), hex(want)) << "cut " << cut;
  }
}

TEST(Utf8Decoder, SpecExamples) {
  const std::string r = std::string(kReplacementChar);
  EXPECT_EQ(decodeWithCuts("\xF0\x80", {}), r + r);
  EXPECT_EQ(decodeWithCuts("\xE2\x82"
                           "A",
                           {}),
            r + "A");
  EXPECT_EQ(decodeWithCuts("\xED\xA0\x80", {}), r + r + r);
  EXPECT_EQ(decodeWithCuts("\xC0\x80", {}), r + r);
  EXPECT_EQ(decodeWithCuts("\xF4\x90\x80\x80", {}), r + r + r + r);
  EXPECT_EQ(decodeWithCuts("\xF0\x9F\x98", {}), r);
  EXPECT_EQ(decodeWithCuts("a\xFF"
                           "b",
                           {}),
            "a" + r + "b");
  EXPECT_EQ(decodeWithCuts("\xE2\x82\xAC", {1}), "\xE2\x82\xAC");
  EXPECT_EQ(decodeWithCuts("\xF0\x9F\x98\x80", {1, 2, 3}), "\xF0\x9F\x98\x80");
}

TEST(Utf8Decoder, WellFormedInputIsNotCopied) {
  const std::string in = "plain ascii and \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  Utf8Decoder decoder;
  std::string scratch = "untouched";
  const Utf8Decoder::Output o = decoder.decode(in.data(), in.size(), &scratch);
  EXPECT_TRUE(o.head.empty());
  EXPECT_EQ(o.body.data(), in.data());
  EXPECT_EQ(o.body.size(), in.size());
  EXPECT_EQ(scratch, "untouched");
}

TEST(Utf8Decoder, TruncatedTailIsHeldAndCompleted) {
  Utf8Decoder decoder;
  std::string scratch;
  const std::string first = "ab\xE2\x82";
  Utf8Decoder::Output o = decoder.decode(first.data(), first.size(), &scratch);
  EXPECT_EQ(o.body, "ab");
  EXPECT_EQ(o.body.data(), first.data());
  EXPECT_TRUE(decoder.hasPending());
  const std::string second =
      "\xAC"
      "cd";
  o = decoder.decode(second.data(), second.size(), &scratch);
  EXPECT_EQ(o.head, "\xE2\x82\xAC");
  EXPECT_EQ(o.body, "cd");
  EXPECT_EQ(o.body.data(), second.data() + 1);
  EXPECT_FALSE(decoder.hasPending());
}

TEST(Utf8Decoder, CompletesOldAndHoldsNewInOneCall) {
  Utf8Decoder decoder;
  std::string scratch;
  decoder.decode("\xC3", 1, &scratch);
  const std::string next = "\xA9x\xF0\x9F";
  const Utf8Decoder::Output o =
      decoder.decode(next.data(), next.size(), &scratch);
  EXPECT_EQ(o.head, "\xC3\xA9");
  EXPECT_EQ(o.body, "x");
  EXPECT_TRUE(decoder.hasPending());
  EXPECT_EQ(decoder.finish(), kReplacementChar);
  EXPECT_FALSE(decoder.hasPending());
  EXPECT_TRUE(decoder.finish().empty());
}

TEST(Utf8Decoder, ResetForgetsPending) {
  Utf8Decoder decoder;
  std::string scratch;
  decoder.decode("\xE2\x82", 2, &scratch);
  decoder.reset();
  const Utf8Decoder::Output o = decoder.decode("\xAC", 1, &scratch);
  EXPECT_TRUE(o.head.empty());
  EXPECT_EQ(o.body, kReplacementChar);
}

// Every string of up to four bytes drawn from the bytes where the decoder's
// decisions change, whole and at every split.
TEST(Utf8Decoder, BoundaryBytesExhaustive) {
  const uint8_t kBytes[] = {0x00, 0x0A, 0x41, 0x7F, 0x80, 0x8F, 0x90,
                            0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                            0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0,
                            0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  const size_t n = sizeof(kBytes);
  std::string in;
  for (size_t len = 1; len <= 4; ++len) {
    size_t total = 1;
    for (size_t i = 0; i < len; ++i) total *= n;
    for (size_t k = 0; k < total; ++k) {
      in.clear();
      for (size_t i = 0, x = k; i < len; ++i, x /= n) {
        in += static_cast<char>(kBytes[x % n]);
      }
      const std::string want = refDecodeUtf8(in);
      ASSERT_EQ(decodeWithCuts(in, {}), want) << hex(in);
      for (size_t cut = 1; cut < len; ++cut) {
        ASSERT_EQ(decodeWithCuts(in, {cut}), want) << hex(in) << cut;
      }
      if (len > 2) {
        std::vector<size_t> every;
        for (size_t i = 1; i < len; ++i) every.push_back(i);
        ASSERT_EQ(decodeWithCuts(in, every), want) << hex(in);
      }
    }
  }
}

TEST(Utf8Decoder, RandomBytesAndSplits) {
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    std::string in;
    const size_t len = rng() % 40;
    const bool mostly_valid = round % 2 == 0;
    while (in.size() < len) {
      if (mostly_valid && rng() % 8 != 0) {
        static const char* const kChars[] = {
            "a",  "\xC3\xA9",        "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
            "\n", "0123456789abcdef"};
        in += kChars[rng() % 6];
      } else {
        in += static_cast<char>(rng() & 0xFF);
      }
    }
    expectDecodesLikeReference(in);
  }
}

TEST(Utf8Validate, MatchesReference) {
  std::mt19937 rng(11);
  for (int round = 0; round < 20000; ++round) {
    std::string in;
    const size_t len = rng() % 24;
    for (size_t i = 0; i < len; ++i) {
      in +=
          static_cast<char>(rng() % 3 == 0 ? rng() & 0xFF : 0x20 + rng() % 90);
    }
    size_t errors = 0;
    refDecode(in, &errors);
    ASSERT_EQ(isValidUtf8(in.data(), in.size()), errors == 0) << hex(in);
    // The valid prefix ends on a character boundary and the rest starts badly.
    const size_t prefix = validUtf8Prefix(in.data(), in.size());
    refDecode(std::string_view(in).substr(0, prefix), &errors);
    ASSERT_EQ(errors, 0u) << hex(in);
  }
}

TEST(Utf8Validate, LongAsciiWithLateError) {
  std::string in(1000, 'x');
  EXPECT_TRUE(isValidUtf8(in.data(), in.size()));
  in[997] = '\x80';
  EXPECT_EQ(validUtf8Prefix(in.data(), in.size()), 997u);
  in[997] = '\xC3';
  EXPECT_EQ(validUtf8Prefix(in.data(), in.size()), 997u);
  in[998] = '\xA9';
  EXPECT_TRUE(isValidUtf8(in.data(), in.size()));
}

TEST(Utf16Length, CountsCodeUnits) {
  EXPECT_EQ(utf16Length("", 0), 0u);
  EXPECT_EQ(utf16Length("abc", 3), 3u);
  EXPECT_EQ(utf16Length("\xC3\xA9", 2), 1u);
  EXPECT_EQ(utf16Length("\xE2\x82\xAC", 3), 1u);
  EXPECT_EQ(utf16Length("\xF0\x9F\x98\x80", 4), 2u);
  EXPECT_EQ(utf16Length("a\xF0\x9F\x98\x80"
                        "b\xEF\xBF\xBD",
                        9),
            5u);
}

TEST(Utf16Length, MatchesReferenceOnRepairedText) {
  std::mt19937 rng(13);
  for (int round = 0; round < 5000; ++round) {
    std::string in;
    const size_t len = rng() % 64;
    for (size_t i = 0; i < len; ++i) in += static_cast<char>(rng() & 0xFF);
    size_t errors = 0;
    const std::vector<uint32_t> cps = refDecode(in, &errors);
    size_t units = 0;
    for (uint32_t cp : cps) units += cp >= 0x10000 ? 2 : 1;
    const std::string text = encode(cps);
    ASSERT_EQ(utf16Length(text.data(), text.size()), units) << hex(in);
  }
}

}  // namespace
}  // namespace sse
