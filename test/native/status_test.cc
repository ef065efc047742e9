// The status table (status.cc) against the enum and its documentation
// (status.h), and the encoders' statuses mapped onto it (status_map.h).
#include "core/status.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <set>
#include <string>

#include "core/status_map.h"

namespace sse {
namespace {

struct Expected {
  Status status;
  const char* ident;  // the enumerator, for the name check
  StatusKind kind;
  const char* code;
};

// In the enum's order: a row out of place in status.cc shows up here.
const Expected kExpected[] = {
    {Status::kOk, "kOk", StatusKind::kOk, ""},
    {Status::kInvalidEvent, "kInvalidEvent", StatusKind::kTypeError, "ERR_INVALID_ARG_VALUE"},
    {Status::kInvalidId, "kInvalidId", StatusKind::kTypeError, "ERR_INVALID_ARG_VALUE"},
    // "a bad value in range terms (RangeError)".
    {Status::kInvalidStatusCode, "kInvalidStatusCode", StatusKind::kRangeError, nullptr},
    {Status::kInvalidReason, "kInvalidReason", StatusKind::kTypeError, nullptr},
    {Status::kInvalidHeaderName, "kInvalidHeaderName", StatusKind::kTypeError, nullptr},
    {Status::kInvalidHeaderValue, "kInvalidHeaderValue", StatusKind::kTypeError, nullptr},
    {Status::kClosed, "kClosed", StatusKind::kState, "SSE_CLOSED"},
    {Status::kAlreadyMember, "kAlreadyMember", StatusKind::kState, "SSE_ALREADY_MEMBER"},
    {Status::kNotMember, "kNotMember", StatusKind::kState, "SSE_NOT_MEMBER"},
    {Status::kLimitConnections, "kLimitConnections", StatusKind::kState, "SSE_LIMIT"},
    {Status::kLimitPerKey, "kLimitPerKey", StatusKind::kState, "SSE_LIMIT"},
    {Status::kLimitPerAddress, "kLimitPerAddress", StatusKind::kState, "SSE_LIMIT"},
    {Status::kSlowConsumer, "kSlowConsumer", StatusKind::kState, "SSE_SLOW_CONSUMER"},
    {Status::kNoMemory, "kNoMemory", StatusKind::kState, "SSE_NO_MEMORY"},
    {Status::kNoLoop, "kNoLoop", StatusKind::kState, "SSE_NO_LOOP"},
    {Status::kAdoptFailed, "kAdoptFailed", StatusKind::kState, "SSE_ADOPT_FAILED"},
};

// "kLimitPerKey" -> "LIMIT_PER_KEY".
std::string screamingName(const char* ident) {
  std::string out;
  for (const char* p = ident + 1; *p != '\0'; ++p) {
    if (std::isupper(static_cast<unsigned char>(*p)) && !out.empty()) out += '_';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
  }
  return out;
}

TEST(Status, EveryStatusIsListedInOrder) {
  ASSERT_EQ(sizeof(kExpected) / sizeof(kExpected[0]), static_cast<size_t>(Status::kCount));
  for (size_t i = 0; i < sizeof(kExpected) / sizeof(kExpected[0]); ++i) {
    EXPECT_EQ(static_cast<size_t>(kExpected[i].status), i) << kExpected[i].ident;
  }
}

TEST(Status, EveryStatusButOkHasCodeNameAndText) {
  std::set<std::string> names;
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.ident);
    ASSERT_NE(statusCode(e.status), nullptr);
    ASSERT_NE(statusName(e.status), nullptr);
    ASSERT_NE(statusText(e.status), nullptr);
    if (e.status == Status::kOk) {
      EXPECT_EQ(statusKind(e.status), StatusKind::kOk);
      EXPECT_STREQ(statusCode(e.status), "");
      continue;
    }
    EXPECT_GT(std::strlen(statusCode(e.status)), 0u);
    EXPECT_GT(std::strlen(statusName(e.status)), 0u);
    EXPECT_GT(std::strlen(statusText(e.status)), 0u);
    EXPECT_NE(statusKind(e.status), StatusKind::kOk);
    EXPECT_TRUE(names.insert(statusName(e.status)).second)
        << "duplicate name " << statusName(e.status);
  }
}

TEST(Status, NamesFollowTheEnumerators) {
  for (const Expected& e : kExpected) {
    EXPECT_EQ(statusName(e.status), screamingName(e.ident)) << e.ident;
  }
}

TEST(Status, KindsAndCodesAsDocumented) {
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.ident);
    EXPECT_EQ(statusKind(e.status), e.kind);
    std::string code = statusCode(e.status);
    if (e.code != nullptr) {
      EXPECT_EQ(code, e.code);
    }
    // Node-style codes for argument errors, SSE_* for state and limits.
    switch (e.kind) {
      case StatusKind::kTypeError:
      case StatusKind::kRangeError:
        EXPECT_EQ(code.rfind("ERR_", 0), 0u) << code;
        break;
      case StatusKind::kState:
        EXPECT_EQ(code.rfind("SSE_", 0), 0u) << code;
        break;
      case StatusKind::kOk:
        break;
    }
  }
}

TEST(Status, FrameStatusMapsEachValue) {
  EXPECT_EQ(statusOf(FrameStatus::kOk), Status::kOk);
  EXPECT_EQ(statusOf(FrameStatus::kInvalidEvent), Status::kInvalidEvent);
  EXPECT_EQ(statusOf(FrameStatus::kInvalidId), Status::kInvalidId);
  // What the encoder really returns maps to an argument error.
  Message m;
  m.event = "a\nb";
  m.has_event = true;
  FrameStatus fs = validateMessage(m);
  EXPECT_EQ(fs, FrameStatus::kInvalidEvent);
  EXPECT_EQ(statusKind(statusOf(fs)), StatusKind::kTypeError);
  Message id;
  id.id = std::string_view("a\0b", 3);
  id.has_id = true;
  fs = validateMessage(id);
  EXPECT_EQ(fs, FrameStatus::kInvalidId);
  EXPECT_EQ(statusOf(fs), Status::kInvalidId);
}

TEST(Status, HeadStatusMapsEachValue) {
  EXPECT_EQ(statusOf(HeadStatus::kOk), Status::kOk);
  EXPECT_EQ(statusOf(HeadStatus::kInvalidStatus), Status::kInvalidStatusCode);
  EXPECT_EQ(statusOf(HeadStatus::kInvalidReason), Status::kInvalidReason);
  EXPECT_EQ(statusOf(HeadStatus::kInvalidHeaderName), Status::kInvalidHeaderName);
  EXPECT_EQ(statusOf(HeadStatus::kInvalidHeaderValue), Status::kInvalidHeaderValue);
  std::string out;
  EXPECT_EQ(statusOf(buildResponseHead(42, "OK", {}, &out)), Status::kInvalidStatusCode);
  EXPECT_EQ(statusOf(buildResponseHead(200, "O\r\nK", {}, &out)), Status::kInvalidReason);
}

}  // namespace
}  // namespace sse
