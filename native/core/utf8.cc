#include "core/utf8.h"

#include <cstring>

namespace sse {
namespace {

// Continuation bytes that `lead` announces; 0 when it cannot start a
// multi-byte sequence (C0, C1, F5..FF and lone continuation bytes).
inline size_t continuationCount(uint8_t lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 1;
  if (lead >= 0xE0 && lead <= 0xEF) return 2;
  if (lead >= 0xF0 && lead <= 0xF4) return 3;
  return 0;
}

// Whether `b` may be byte `j` (1-based after the lead) of a sequence led by
// `lead`. The narrowed second-byte ranges reject overlongs, surrogates and
// code points past U+10FFFF exactly where the WHATWG decoder does.
inline bool continuationOk(uint8_t lead, size_t j, uint8_t b) {
  uint8_t lo = 0x80;
  uint8_t hi = 0xBF;
  if (j == 1) {
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  }
  return b >= lo && b <= hi;
}

// Length of the whole well-formed multi-byte character at p[0], or 0.
inline size_t validCharLength(const uint8_t* p, size_t n) {
  const size_t need = continuationCount(p[0]);
  if (need == 0 || n <= need) return 0;
  if (!continuationOk(p[0], 1, p[1])) return 0;
  for (size_t j = 2; j <= need; ++j) {
    if ((p[j] & 0xC0) != 0x80) return 0;
  }
  return need + 1;
}

enum class SeqKind { kValid, kInvalid, kTruncated };

// Classifies the sequence starting at non-ASCII p[0] and sets `*len` to the
// whole character (kValid), its maximal subpart (kInvalid, one U+FFFD), or
// all `n` bytes (kTruncated: well-formed so far, the input ended).
SeqKind inspect(const uint8_t* p, size_t n, size_t* len) {
  const size_t need = continuationCount(p[0]);
  if (need == 0) {
    *len = 1;
    return SeqKind::kInvalid;
  }
  for (size_t j = 1; j <= need; ++j) {
    if (j == n) {
      *len = n;
      return SeqKind::kTruncated;
    }
    if (!continuationOk(p[0], j, p[j])) {
      *len = j;
      return SeqKind::kInvalid;
    }
  }
  *len = need + 1;
  return SeqKind::kValid;
}

}  // namespace

size_t validUtf8Prefix(const char* s, size_t n) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(s);
  size_t i = 0;
  while (i < n) {
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      if (word & 0x8080808080808080ull) break;
      i += 8;
    }
    while (i < n && p[i] < 0x80) ++i;
    if (i == n) break;
    const size_t len = validCharLength(p + i, n - i);
    if (len == 0) break;
    i += len;
  }
  return i;
}

size_t utf16Length(const char* s, size_t n) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(s);
  // Every byte but a continuation byte starts a code point; 4-byte ones
  // (lead >= F0) need a surrogate pair. Written branch-free to vectorize.
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    count += static_cast<size_t>((p[i] & 0xC0) != 0x80) +
             static_cast<size_t>(p[i] >= 0xF0);
  }
  return count;
}

Utf8Decoder::Output Utf8Decoder::decode(const char* s, size_t n,
                                        std::string* scratch) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(s);
  Output out;
  size_t start = 0;
  if (pending_len_ != 0) {
    const uint8_t lead = pending_[0];
    const size_t total = continuationCount(lead) + 1;
    while (start < n) {
      if (!continuationOk(lead, pending_len_, p[start])) {
        // The offending byte is not consumed: it begins the next sequence.
        std::memcpy(head_, kReplacementChar.data(), kReplacementChar.size());
        out.head = std::string_view(head_, kReplacementChar.size());
        pending_len_ = 0;
        break;
      }
      pending_[pending_len_++] = p[start++];
      if (pending_len_ == total) {
        std::memcpy(head_, pending_, total);
        out.head = std::string_view(head_, total);
        pending_len_ = 0;
        break;
      }
    }
    if (pending_len_ != 0) return out;  // input exhausted, still truncated
  }

  size_t i = start;
  bool repaired = false;
  for (;;) {
    const size_t valid = validUtf8Prefix(s + i, n - i);
    if (repaired) scratch->append(s + i, valid);
    i += valid;
    if (i == n) break;
    size_t len = 0;
    const SeqKind kind = inspect(p + i, n - i, &len);
    if (kind == SeqKind::kTruncated) {
      std::memcpy(pending_, p + i, len);
      pending_len_ = static_cast<uint8_t>(len);
      break;
    }
    if (kind == SeqKind::kValid) {
      // Unreachable while validUtf8Prefix and inspect agree; kept harmless.
      if (repaired) scratch->append(s + i, len);
      i += len;
      continue;
    }
    if (!repaired) {
      scratch->assign(s + start, i - start);
      repaired = true;
    }
    scratch->append(kReplacementChar);
    i += len;
  }
  out.body = repaired ? std::string_view(*scratch)
                      : std::string_view(s + start, i - start);
  return out;
}

std::string_view Utf8Decoder::finish() {
  if (pending_len_ == 0) return {};
  pending_len_ = 0;
  return kReplacementChar;
}

}  // namespace sse
