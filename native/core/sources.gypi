# The one list of native/core sources, shared by binding.gyp (the addon) and
# CMakeLists.txt (tests, benches, fuzzers), which reads the quoted .cc paths.
{
  'variables': {
    'sse_core_sources': [
      'native/core/frame.cc',
      'native/core/http_head.cc',
      'native/core/http_request.cc',
      'native/core/hub.cc',
      'native/core/io/connection.cc',
      'native/core/io/listener.cc',
      'native/core/io/loop_context.cc',
      'native/core/io/send_ring.cc',
      'native/core/io/write_queue.cc',
      'native/core/parser.cc',
      'native/core/replay_ring.cc',
      'native/core/status.cc',
      'native/core/timer_wheel.cc',
      'native/core/utf8.cc',
    ],
  },
}
