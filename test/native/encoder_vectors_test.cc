// The shared encoder vectors (test/vectors/encoder.vectors, format at its
// top) through the core encoder: appendFrame / encodeShared for messages,
// encodeNdjsonTo for NDJSON lines. The Jest twin of this file is
// test/03.encoder.vectors.test.ts (the addon and lib/common/encoder-ts.ts).
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "core/frame.h"

namespace sse {
namespace {

struct EncoderVector {
  std::string name;
  int line = 0;
  std::optional<std::string> event, data, id, comment, ndjson;
  std::optional<uint64_t> retry;
  std::string expected;
  FrameStatus status = FrameStatus::kOk;
};

bool unescapeTo(std::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      *out += s[i];
      continue;
    }
    if (++i == s.size()) return false;
    switch (s[i]) {
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      case 't': *out += '\t'; break;
      case '0': *out += '\0'; break;
      case '\\': *out += '\\'; break;
      case 'x': {
        const std::string hex(s.substr(i + 1, 2));
        if (hex.size() != 2 || !std::isxdigit(static_cast<unsigned char>(hex[0])) ||
            !std::isxdigit(static_cast<unsigned char>(hex[1]))) {
          return false;
        }
        *out += static_cast<char>(std::stoi(hex, nullptr, 16));
        i += 2;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

std::vector<EncoderVector> load(std::string* error) {
  std::vector<EncoderVector> out;
  std::ifstream file(SSE_VECTORS_DIR "/encoder.vectors", std::ios::binary);
  if (!file) {
    *error = "cannot open encoder.vectors";
    return out;
  }
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    auto fail = [&](const std::string& why) {
      *error = "encoder.vectors:" + std::to_string(number) + ": " + why;
    };
    if (line.empty()) continue;
    if (line.rfind("## ", 0) == 0) {
      out.emplace_back();
      out.back().name = line.substr(3);
      out.back().line = number;
      continue;
    }
    if (line[0] == '#') continue;
    if (out.empty()) {
      fail("record before the first case");
      return out;
    }
    EncoderVector& v = out.back();
    if (line == "=") continue;
    if (line.rfind("= ", 0) == 0) {
      if (!unescapeTo(std::string_view(line).substr(2), &v.expected)) fail("bad escape");
      continue;
    }
    if (line == "! invalid-event") {
      v.status = FrameStatus::kInvalidEvent;
      continue;
    }
    if (line == "! invalid-id") {
      v.status = FrameStatus::kInvalidId;
      continue;
    }
    const size_t sp = line.find(' ');
    if (sp == std::string::npos) {
      fail("bad record: " + line);
      return out;
    }
    const std::string key = line.substr(0, sp);
    const std::string raw = line.substr(sp + 1);
    if (key == "retry") {
      v.retry = std::stoull(raw);
      continue;
    }
    std::string value;
    if (raw != "\"\"" && !unescapeTo(raw, &value)) fail("bad escape");
    if (key == "event") {
      v.event = value;
    } else if (key == "data") {
      v.data = value;
    } else if (key == "id") {
      v.id = value;
    } else if (key == "comment") {
      v.comment = value;
    } else if (key == "ndjson") {
      v.ndjson = value;
    } else {
      fail("unknown record: " + line);
      return out;
    }
  }
  return out;
}

const std::vector<EncoderVector>& vectors() {
  static std::string error;
  static const std::vector<EncoderVector> all = load(&error);
  EXPECT_EQ(error, "");
  return all;
}

TEST(EncoderVectorFile, LoadsManyCases) { EXPECT_GE(vectors().size(), 40u); }

TEST(EncoderVectors, CoreEncoderGivesTheBytes) {
  for (const EncoderVector& v : vectors()) {
    SCOPED_TRACE("encoder.vectors:" + std::to_string(v.line) + " " + v.name);
    if (v.ndjson) {
      std::string out(ndjsonSize(*v.ndjson), '\0');
      char* end = encodeNdjsonTo(*v.ndjson, out.data());
      EXPECT_EQ(static_cast<size_t>(end - out.data()), out.size());
      EXPECT_EQ(out, v.expected);
      continue;
    }
    Message m;
    if (v.event) m.event = *v.event, m.has_event = true;
    if (v.data) m.data = *v.data, m.has_data = true;
    if (v.id) m.id = *v.id, m.has_id = true;
    if (v.comment) m.comment = *v.comment, m.has_comment = true;
    if (v.retry) m.retry = *v.retry, m.has_retry = true;
    std::string out;
    EXPECT_EQ(appendFrame(m, &out), v.status);
    EXPECT_EQ(out, v.expected);
    FrameStatus st;
    BufferRef shared = encodeShared(m, &st);
    EXPECT_EQ(st, v.status);
    if (v.status == FrameStatus::kOk) {
      ASSERT_TRUE(shared);
      EXPECT_EQ(encodedSize(m), v.expected.size());
      EXPECT_EQ(std::string(shared.data(), shared.size()), v.expected);
    } else {
      EXPECT_FALSE(shared);
    }
  }
}

}  // namespace
}  // namespace sse
