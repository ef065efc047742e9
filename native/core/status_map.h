// FrameStatus and HeadStatus (the encoders' own outcomes) as core Statuses.
#ifndef SSE_CORE_STATUS_MAP_H_
#define SSE_CORE_STATUS_MAP_H_

#include "core/frame.h"
#include "core/http_head.h"
#include "core/status.h"

namespace sse {

inline Status statusOf(FrameStatus s) {
  switch (s) {
    case FrameStatus::kOk: return Status::kOk;
    case FrameStatus::kInvalidEvent: return Status::kInvalidEvent;
    case FrameStatus::kInvalidId: return Status::kInvalidId;
  }
  return Status::kInvalidEvent;
}

inline Status statusOf(HeadStatus s) {
  switch (s) {
    case HeadStatus::kOk: return Status::kOk;
    case HeadStatus::kInvalidStatus: return Status::kInvalidStatusCode;
    case HeadStatus::kInvalidReason: return Status::kInvalidReason;
    case HeadStatus::kInvalidHeaderName: return Status::kInvalidHeaderName;
    case HeadStatus::kInvalidHeaderValue: return Status::kInvalidHeaderValue;
  }
  return Status::kInvalidHeaderValue;
}

}  // namespace sse

#endif  // SSE_CORE_STATUS_MAP_H_
