#!/usr/bin/env node
// For binding.gyp: what to link for the io_uring flush (native/core/io/send_ring.h)
// on the target architecture (argv[2], node-gyp's target_arch), printed on stdout:
//   the path of liburing.a (Debian's liburing-dev), linked statically so a prebuild
//   needs no liburing.so at run time; else -luring when only the shared library is
//   there; else nothing, and the addon builds without io_uring (writev only).
// SSE_NATIVE_IO_URING_BUILD=0 in the build's environment also builds without it.
'use strict';
const fs = require('fs');
const path = require('path');

const triplets = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf' };
function pick() {
  if (process.platform !== 'linux' || process.env.SSE_NATIVE_IO_URING_BUILD === '0') return '';
  if (!fs.existsSync('/usr/include/liburing.h')) return '';
  const triplet = triplets[process.argv[2] || process.arch];
  if (!triplet) return '';
  const dir = path.join('/usr/lib', triplet);
  if (fs.existsSync(path.join(dir, 'liburing.a'))) return path.join(dir, 'liburing.a');
  if (fs.existsSync(path.join(dir, 'liburing.so'))) return '-luring';
  return '';
}
process.stdout.write(pick());
