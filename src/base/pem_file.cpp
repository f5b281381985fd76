#include <fstream>

#include <cicada/base/pem_file.hpp>

namespace cicada {

bool pem_is_encrypted(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  // Both markers sit in the first lines: the BEGIN line, or Proc-Type right after it.
  for (int i = 0; i < 4 && std::getline(in, line); ++i) {
    if (line.find("ENCRYPTED") != std::string::npos) return true;
  }
  return false;
}

}  // namespace cicada
