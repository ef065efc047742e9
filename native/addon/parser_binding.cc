// The native side of createParser(). One crossing per feed(): the core
// parses the whole chunk, the handler below packs every callback into an
// Int32Array of records and one string holding all their text, and lib/
// turns records into callbacks. No JS object is made here per event.
#include <cstring>
#include <vector>

#include "addon/addon.h"
#include "core/parser.h"
#include "core/utf8.h"

namespace sse::addon {
namespace {

// Record kinds; keep in sync with lib/parser.ts.
enum Record : int32_t {
  kRecEvent = 1,    // flags(1 = has event, 2 = has id), eventLen, idLen, dataLen
  kRecId = 2,       // len
  kRecRetry = 3,    // high 32 bits, low 32 bits
  kRecComment = 4,  // len
  kRecError = 5,    // kind, fieldLen, valueLen, lineLen
};
constexpr size_t kHeader = 2;  // [0] = int32 count after the header, [1] = status

class RecordWriter : public ParserHandler {
 public:
  std::string text_;
  std::vector<int32_t> recs_;
  bool ascii_ = true;

  void clear() {
    text_.clear();
    recs_.clear();
    ascii_ = true;
  }

  void onEvent(const Event& e) override {
    recs_.insert(recs_.end(), {kRecEvent, (e.has_event ? 1 : 0) | (e.has_id ? 2 : 0),
                               put(e.event), put(e.id), put(e.data)});
  }
  void onId(std::string_view id) override { recs_.insert(recs_.end(), {kRecId, put(id)}); }
  void onRetry(uint64_t ms) override {
    recs_.insert(recs_.end(), {kRecRetry, static_cast<int32_t>(ms >> 32),
                               static_cast<int32_t>(ms & 0xffffffffu)});
  }
  void onComment(std::string_view text) override {
    recs_.insert(recs_.end(), {kRecComment, put(text)});
  }
  void onError(ParseErrorKind kind, std::string_view field, std::string_view value,
               std::string_view line) override {
    recs_.insert(recs_.end(),
                 {kRecError, static_cast<int32_t>(kind), put(field), put(value), put(line)});
  }

  // Rewrites byte lengths as UTF-16 lengths when the text is not ASCII.
  void toUtf16Lengths() {
    const char* p = text_.data();
    for (size_t i = 0; i < recs_.size();) {
      int n = 0;
      switch (recs_[i]) {
        case kRecEvent: n = 3; i += 2; break;
        case kRecId: case kRecComment: n = 1; i += 1; break;
        case kRecRetry: i += 3; continue;
        case kRecError: n = 3; i += 2; break;
      }
      for (int k = 0; k < n; ++k, ++i) {
        size_t bytes = static_cast<size_t>(recs_[i]);
        recs_[i] = static_cast<int32_t>(utf16Length(p, bytes));
        p += bytes;
      }
    }
  }

 private:
  int32_t put(std::string_view s) {
    if (ascii_) {
      for (unsigned char c : s) {
        if (c >= 0x80) {
          ascii_ = false;
          break;
        }
      }
    }
    text_.append(s.data(), s.size());
    return static_cast<int32_t>(s.size());
  }
};

class NativeParser : public Napi::ObjectWrap<NativeParser> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeParser",
                       {InstanceMethod<&NativeParser::JS_feed>("feed"),
                        InstanceMethod<&NativeParser::JS_reset>("reset"),
                        InstanceAccessor<&NativeParser::JS_records>("records")});
  }

  // new NativeParser(maxBufferSize: number, comments: boolean) ; 0 = unbounded
  explicit NativeParser(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<NativeParser>(info),
        parser_(&writer_,
                info[0].IsNumber() ? static_cast<size_t>(info[0].As<Napi::Number>().DoubleValue())
                                   : 0,
                info.Length() < 2 || info[1].ToBoolean().Value()) {
    grow(info.Env(), 1024);
  }

 private:
  // feed(chunk: string | Uint8Array) -> string (the text of all records)
  Napi::Value JS_feed(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    writer_.clear();
    // Refused = terminated before this call (max buffer size); a feed that
    // trips the limit itself reports it through onError, not by refusing.
    bool ok = !parser_.terminated();
    if (info[0].IsTypedArray()) {
      Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
      if (ta.TypedArrayType() != napi_uint8_array) {
        throwTypeError(env, "feed: chunk must be a string or a Uint8Array");
        return env.Null();
      }
      auto u8 = ta.As<Napi::Uint8Array>();
      parser_.feed(u8.Data(), u8.ByteLength());
    } else if (info[0].IsString()) {
      std::string& s = env.GetInstanceData<Addon>()->scratch_[0];
      if (!readUtf8(env, info[0], &s)) return env.Null();
      parser_.feed(s);
    } else {
      throwTypeError(env, "feed: chunk must be a string or a Uint8Array");
      return env.Null();
    }
    return finish(env, ok);
  }

  // reset(consume: boolean) -> string, like feed()
  Napi::Value JS_reset(const Napi::CallbackInfo& info) {
    writer_.clear();
    parser_.reset(info[0].ToBoolean().Value());
    return finish(info.Env(), true);
  }

  Napi::Value JS_records(const Napi::CallbackInfo& info) { return records_.Value(); }

  Napi::Value finish(Napi::Env env, bool ok) {
    size_t need = kHeader + writer_.recs_.size();
    if (need > capacity_) grow(env, need * 2);
    recs_data_[0] = static_cast<int32_t>(writer_.recs_.size());
    recs_data_[1] = ok ? 0 : 1;
    napi_value str;
    const std::string& t = writer_.text_;
    if (writer_.ascii_) {
      napi_create_string_latin1(env, t.data(), t.size(), &str);
    } else {
      writer_.toUtf16Lengths();
      napi_create_string_utf8(env, t.data(), t.size(), &str);
    }
    if (!writer_.recs_.empty()) {
      std::memcpy(recs_data_ + kHeader, writer_.recs_.data(), writer_.recs_.size() * 4);
    }
    return Napi::Value(env, str);
  }

  void grow(Napi::Env env, size_t ints) {
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, ints * 4);
    Napi::Int32Array arr = Napi::Int32Array::New(env, ints, ab, 0);
    recs_data_ = static_cast<int32_t*>(ab.Data());
    capacity_ = ints;
    records_ = Napi::Persistent(arr);
  }

  RecordWriter writer_;
  Parser parser_;
  Napi::Reference<Napi::Int32Array> records_;
  int32_t* recs_data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace

void initParser(Napi::Env env, Napi::Object exports, Addon* addon) {
  Napi::Function ctor = NativeParser::define(env);
  addon->parser_ctor_ = Napi::Persistent(ctor);
  exports.Set("NativeParser", ctor);
}

}  // namespace sse::addon
