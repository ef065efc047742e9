{
  'includes': ['native/core/sources.gypi'],
  'targets': [
    {
      'target_name': 'sse_native',
      'variables': {
        # liburing for the io_uring flush: its static library when there is one
        # (scripts/liburing-gyp.js), else nothing and the addon writes with writev.
        'sse_liburing%': '<!(node scripts/liburing-gyp.js <(target_arch))',
      },
      'conditions': [
        ['OS=="linux" and sse_liburing!=""', {
          'defines': ['SSE_HAVE_LIBURING=1'],
          'libraries': ['<(sse_liburing)'],
          # Its symbols stay private to the addon (no clash with another copy).
          'ldflags': ['-Wl,--exclude-libs,liburing.a'],
        }],
      ],
      'sources': [
        '<@(sse_core_sources)',
        'native/addon/addon.cc',
        'native/addon/constants.cc',
        'native/addon/errors.cc',
        'native/addon/encoder_binding.cc',
        'native/addon/engine.cc',
        'native/addon/engine_binding.cc',
        'native/addon/hub_binding.cc',
        'native/addon/listener_binding.cc',
        'native/addon/parser_binding.cc',
      ],
      'include_dirs': [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        'native',
      ],
      'defines': ['NAPI_VERSION=8', 'NAPI_DISABLE_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED',
                  # A throw that fails because the environment (a Worker) is being
                  # torn down is dropped instead of aborting the whole process.
                  'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20'],
      'cflags_cc': ['-std=c++17', '-O3', '-fvisibility=hidden'],
      'cflags': ['-O3'],
      'xcode_settings': {
        'GCC_ENABLE_CPP_EXCEPTIONS': 'NO',
        'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
        'MACOSX_DEPLOYMENT_TARGET': '10.15',
      },
    },
  ],
}
