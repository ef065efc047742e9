// Replays fuzz inputs (files or directories of files) through the fuzz
// target without libFuzzer, so the corpus runs under ctest in every build,
// ASan/UBSan included. Exits non-zero if the target aborts (it checks its
// own invariants) or an input cannot be read.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool runFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  size_t ran = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) return 2;
    if (!S_ISDIR(st.st_mode)) {
      if (!runFile(argv[i])) return 2;
      ++ran;
      continue;
    }
    DIR* dir = opendir(argv[i]);
    if (dir == nullptr) return 2;
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      if (!runFile(std::string(argv[i]) + "/" + e->d_name)) return 2;
      ++ran;
    }
    closedir(dir);
  }
  std::printf("replayed %zu inputs\n", ran);
  return ran == 0 ? 1 : 0;
}
