/* The floor of per-connection compression: zlib's deflate() with
 * Z_SYNC_FLUSH once per event, called directly from C (what compressing in
 * the core would cost, with no Node stream machinery around it). Reads the
 * frames from a file (u32 length + bytes, repeated), keeps one z_stream per
 * connection, sends frame t to every connection in turn t, and prints
 * "<ns of CPU per event> <compressed bytes>" from CLOCK_PROCESS_CPUTIME_ID.
 * Built and run by bench/compression.mjs:  cc -O2 compression-floor.c -lz
 *   usage: floor FRAMES_FILE CONNS LEVEL WINDOW_BITS MEM_LEVEL */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

int main(int argc, char **argv) {
  if (argc != 6) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  int conns = atoi(argv[2]), level = atoi(argv[3]), wbits = atoi(argv[4]), mem = atoi(argv[5]);
  size_t cap = 1024, n = 0;
  unsigned char **frames = malloc(cap * sizeof *frames);
  uint32_t *lens = malloc(cap * sizeof *lens);
  uint32_t len;
  while (fread(&len, 4, 1, f) == 1) {
    if (n == cap) {
      cap *= 2;
      frames = realloc(frames, cap * sizeof *frames);
      lens = realloc(lens, cap * sizeof *lens);
    }
    frames[n] = malloc(len);
    if (fread(frames[n], 1, len, f) != len) return 2;
    lens[n++] = len;
  }
  fclose(f);
  z_stream *zs = calloc(conns, sizeof *zs);
  for (int c = 0; c < conns; c++)
    if (deflateInit2(&zs[c], level, Z_DEFLATED, wbits, mem, Z_DEFAULT_STRATEGY) != Z_OK) return 3;
  unsigned char out[65536];
  unsigned long long total = 0;
  struct timespec a, b;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
  for (size_t t = 0; t < n; t++) {
    for (int c = 0; c < conns; c++) {
      zs[c].next_in = frames[t];
      zs[c].avail_in = lens[t];
      do {
        zs[c].next_out = out;
        zs[c].avail_out = sizeof out;
        deflate(&zs[c], Z_SYNC_FLUSH);
        total += sizeof out - zs[c].avail_out;
      } while (zs[c].avail_out == 0);
    }
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("%.1f %llu\n", ns / ((double)n * conns), total);
  for (int c = 0; c < conns; c++) deflateEnd(&zs[c]);
  return 0;
}
