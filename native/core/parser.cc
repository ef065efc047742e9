#include "core/parser.h"

#include <cstring>
#include <limits>

namespace sse {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// Views handed out are never null, even when empty (C APIs downstream).
constexpr std::string_view kEmpty = "";

inline std::string_view stripOneSpace(std::string_view value) {
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return value;
}

// Digits only, at least one, and a value that fits in uint64_t (Chromium
// ignores a larger one rather than clamping it).
inline bool parseRetry(std::string_view value, uint64_t* out) {
  if (value.empty()) return false;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t ms = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (ms > (kMax - digit) / 10) return false;
    ms = ms * 10 + digit;
  }
  *out = ms;
  return true;
}

// Whether `line` (not empty) is `name`, a prefix of it, or `name:` and more.
inline bool mayBeField(std::string_view line, std::string_view name) {
  const size_t n = line.size() < name.size() ? line.size() : name.size();
  if (line.compare(0, n, name, 0, n) != 0) return false;
  return line.size() <= name.size() || line[name.size()] == ':';
}

}  // namespace

Parser::Parser(ParserHandler* handler, size_t max_buffer_size, bool comments)
    : handler_(handler), max_buffer_size_(max_buffer_size), comments_(comments) {}

bool Parser::pendingLineMayMatter() const {
  switch (line_.front()) {
    case ':':
      return comments_;
    case 'd':
      return mayBeField(line_, "data");
    case 'e':
      return mayBeField(line_, "event");
    case 'i':
      return mayBeField(line_, "id");
    case 'r':
      return mayBeField(line_, "retry");
    default:
      return false;
  }
}

bool Parser::feed(const uint8_t* bytes, size_t length) {
  if (terminated_) return false;
  const Utf8Decoder::Output out =
      decoder_.decode(reinterpret_cast<const char*>(bytes), length, &decoded_);
  if (!out.head.empty()) processSegment(out.head.data(), out.head.size());
  if (!out.body.empty()) processSegment(out.body.data(), out.body.size());
  // Decided once per feed, on what would stay buffered until the next one.
  if (!line_.empty() && !pendingLineMayMatter()) {
    line_.clear();
    skipping_ = true;
  }
  // Checked once per feed, like eventsource-parser: only what stays buffered
  // between feeds counts.
  if (max_buffer_size_ != 0 && line_.size() + data_.size() > max_buffer_size_) {
    terminate();
    return false;
  }
  return true;
}

void Parser::reset(bool consume) {
  // While skipping, what the decoder holds belongs to the dropped line.
  if (consume && !terminated_ && !skipping_) {
    // End of stream: a truncated sequence decodes to U+FFFD.
    const std::string_view tail = decoder_.finish();
    line_.append(tail.data(), tail.size());
    if (!line_.empty()) processLine(line_, false);
  }
  decoder_.reset();
  line_.clear();
  clearBlock();
  bom_checked_ = false;
  last_was_cr_ = false;
  terminated_ = false;
  skipping_ = false;
}

void Parser::processSegment(const char* p, size_t n) {
  if (!bom_checked_) {
    // Segments hold whole characters, so a BOM split across feeds arrives
    // here whole, as the first three bytes.
    bom_checked_ = true;
    if (n >= kBom.size() && std::memcmp(p, kBom.data(), kBom.size()) == 0) {
      p += kBom.size();
      n -= kBom.size();
      if (n == 0) return;
    }
  }
  const char* pos = p;
  const char* const end = p + n;
  if (last_was_cr_) {
    last_was_cr_ = false;
    if (*pos == '\n') ++pos;
  }
  if (skipping_) {
    // The dropped line ends at the first CR or LF; its break is not a blank
    // line, so nothing is dispatched for it.
    const void* lf = std::memchr(pos, '\n', static_cast<size_t>(end - pos));
    const char* eol = lf != nullptr ? static_cast<const char*>(lf) : end;
    const void* cr = std::memchr(pos, '\r', static_cast<size_t>(eol - pos));
    if (cr != nullptr) eol = static_cast<const char*>(cr);
    if (eol == end) return;
    skipping_ = false;
    pos = eol + 1;
    if (*eol == '\r') {
      if (pos == end) {
        last_was_cr_ = true;
        return;
      }
      if (*pos == '\n') ++pos;
    }
  }
  // Next CR and next LF at or after `pos` (or `end`); each is searched again
  // only once passed, so the scan stays linear.
  auto find = [&](char c) {
    const void* hit = std::memchr(pos, c, static_cast<size_t>(end - pos));
    return hit != nullptr ? static_cast<const char*>(hit) : end;
  };
  const char* cr = find('\r');
  const char* lf = find('\n');
  while (pos < end) {
    if (cr < pos) cr = find('\r');
    if (lf < pos) lf = find('\n');
    const char* eol = cr < lf ? cr : lf;
    if (eol == end) {
      line_.append(pos, end - pos);
      break;
    }
    if (line_.empty()) {
      processLine(std::string_view(pos, eol - pos), true);
    } else {
      line_.append(pos, eol - pos);
      processLine(line_, false);
      line_.clear();
    }
    pos = eol + 1;
    if (*eol == '\r') {
      if (pos == end) {
        last_was_cr_ = true;
      } else if (*pos == '\n') {
        ++pos;
      }
    }
  }
  if (data_is_view_) {
    data_.assign(data_view_.data(), data_view_.size());
    data_is_view_ = false;
  }
}

void Parser::processLine(std::string_view line, bool in_segment) {
  if (line.empty()) {
    dispatch();
    return;
  }
  if (line.front() == ':') {
    if (comments_) handler_->onComment(stripOneSpace(line.substr(1)));
    return;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    // An empty value that still points into the line (never a null view).
    processField(line, line.substr(line.size()), line, in_segment);
  } else {
    processField(line.substr(0, colon), stripOneSpace(line.substr(colon + 1)),
                 line, in_segment);
  }
}

void Parser::processField(std::string_view field, std::string_view value,
                          std::string_view line, bool in_segment) {
  if (field == "data") {
    if (!has_data_) {
      has_data_ = true;
      if (in_segment) {
        data_view_ = value;
        data_is_view_ = true;
      } else {
        data_.assign(value.data(), value.size());
      }
    } else {
      if (data_is_view_) {
        data_.assign(data_view_.data(), data_view_.size());
        data_is_view_ = false;
      }
      data_.push_back('\n');
      data_.append(value.data(), value.size());
    }
  } else if (field == "event") {
    // An empty value resets the type to the default ("message").
    has_event_ = !value.empty();
    event_.assign(value.data(), value.size());
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      id_.assign(value.data(), value.size());
      has_id_ = true;
    }
  } else if (field == "retry") {
    uint64_t ms = 0;
    if (parseRetry(value, &ms)) {
      handler_->onRetry(ms);
    } else {
      handler_->onError(ParseErrorKind::kInvalidRetry, field, value, line);
    }
  } else {
    handler_->onError(ParseErrorKind::kUnknownField, field, value, line);
  }
}

void Parser::dispatch() {
  if (has_id_) handler_->onId(id_);
  if (has_data_) {
    Event event;
    event.event = kEmpty;
    event.id = kEmpty;
    event.data = data_is_view_ ? data_view_ : std::string_view(data_);
    if (has_event_) event.event = event_;
    if (has_id_) event.id = id_;
    event.has_event = has_event_;
    event.has_id = has_id_;
    handler_->onEvent(event);
  }
  clearBlock();
}

void Parser::clearBlock() {
  data_.clear();
  data_view_ = std::string_view();
  data_is_view_ = false;
  event_.clear();
  id_.clear();
  has_data_ = false;
  has_event_ = false;
  has_id_ = false;
}

void Parser::terminate() {
  terminated_ = true;
  skipping_ = false;
  decoder_.reset();
  last_was_cr_ = false;
  clearBlock();
  // Give back what the oversized line or data made us hold.
  std::string().swap(line_);
  std::string().swap(data_);
  handler_->onError(ParseErrorKind::kMaxBufferSizeExceeded, kEmpty, kEmpty,
                    kEmpty);
}

}  // namespace sse
