// ReplayRing: what a client that reconnects with Last-Event-ID missed.
#include "core/replay_ring.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sse {
namespace {

BufferRef buf(const std::string& s) { return BufferRef(SharedBuffer::copyOf(s.data(), s.size())); }

std::string joined(const std::vector<BufferRef>& v) {
  std::string out;
  for (const BufferRef& b : v) out.append(b.data(), b.size());
  return out;
}

TEST(ReplayRing, OffRecordsNothing) {
  ReplayRing r;
  r.push("1", buf("a"), 0);
  std::vector<BufferRef> out;
  EXPECT_EQ(r.since("1", 0, &out), ReplayRing::Since::kGap);
  EXPECT_EQ(r.size(), 0u);
}

TEST(ReplayRing, SinceGivesWhatFollowedInOrder) {
  ReplayRing r;
  r.configure(10, 0);
  for (int i = 1; i <= 5; ++i) r.push(std::to_string(i), buf("f" + std::to_string(i)), 0);
  std::vector<BufferRef> out;
  EXPECT_EQ(r.since("2", 0, &out), ReplayRing::Since::kFound);
  EXPECT_EQ(joined(out), "f3f4f5");
  out.clear();
  EXPECT_EQ(r.since("5", 0, &out), ReplayRing::Since::kFound);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(r.since("nope", 0, &out), ReplayRing::Since::kGap);
  EXPECT_TRUE(out.empty());
}

TEST(ReplayRing, EvictsByCountAndTellsAGap) {
  ReplayRing r;
  r.configure(3, 0);
  for (int i = 1; i <= 6; ++i) r.push(std::to_string(i), buf(std::to_string(i)), 0);
  EXPECT_EQ(r.size(), 3u);
  std::vector<BufferRef> out;
  EXPECT_EQ(r.since("2", 0, &out), ReplayRing::Since::kGap);  // 3 fell out
  EXPECT_EQ(r.since("4", 0, &out), ReplayRing::Since::kFound);
  EXPECT_EQ(joined(out), "56");
}

TEST(ReplayRing, EvictsByAgeButStillKnowsTheNewestId) {
  ReplayRing r;
  r.configure(100, 50);
  r.push("1", buf("a"), 0);
  r.push("2", buf("b"), 10);
  std::vector<BufferRef> out;
  EXPECT_EQ(r.since("1", 40, &out), ReplayRing::Since::kFound);
  EXPECT_EQ(joined(out), "b");
  out.clear();
  EXPECT_EQ(r.since("1", 100, &out), ReplayRing::Since::kGap);  // both expired
  EXPECT_EQ(r.since("2", 100, &out), ReplayRing::Since::kFound);  // nothing missed
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(r.size(), 0u);
}

TEST(ReplayRing, AReusedIdMeansItsLatestUse) {
  ReplayRing r;
  r.configure(10, 0);
  r.push("x", buf("1"), 0);
  r.push("y", buf("2"), 0);
  r.push("x", buf("3"), 0);
  r.push("z", buf("4"), 0);
  std::vector<BufferRef> out;
  EXPECT_EQ(r.since("x", 0, &out), ReplayRing::Since::kFound);
  EXPECT_EQ(joined(out), "4");
}

TEST(ReplayRing, TurningOffEmpties) {
  ReplayRing r;
  r.configure(10, 0);
  r.push("1", buf("a"), 0);
  r.configure(0, 0);
  EXPECT_FALSE(r.enabled());
  EXPECT_EQ(r.size(), 0u);
}

}  // namespace
}  // namespace sse
