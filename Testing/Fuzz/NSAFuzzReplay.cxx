// NSAFuzzReplay: runs fuzz inputs through the fuzz targets without libFuzzer, so that the
// corpora and every crasher found (Testing/Data/Fuzz/<target>/) are replayed by CTest in the
// normal build.
//
//   NSAFuzzReplay <target> <file or folder>...   every file; exit 0 unless one crashes
//   NSAFuzzReplay --check <target> <file>         exit 1 and the message when it is refused

#include "nsaFuzzTargets.h"

#include "nsaError.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

namespace fs = std::filesystem;

namespace
{

std::vector<std::uint8_t>
ReadBytes(const std::string & path)
{
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/** Runs one input; returns the refusal message, or "" when accepted. */
std::string
Run(nsa::fuzz::Target target, const std::string & path)
{
  const auto bytes = ReadBytes(path);
  try
  {
    target(bytes.data(), bytes.size());
  }
  catch (const std::bad_alloc &)
  {
    throw;
  }
  catch (const std::exception & error)
  {
    const std::string message = nsa::UserMessage(error);
    return message.empty() ? std::string("(empty message)") : message;
  }
  catch (...)
  {
    return "(non-standard exception)";
  }
  return "";
}

} // namespace

int
main(int argc, char * argv[])
{
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  const bool check = !arguments.empty() && arguments[0] == "--check";
  const std::size_t first = check ? 1 : 0;
  if (arguments.size() < first + 2)
  {
    std::cerr << "usage: NSAFuzzReplay [--check] <target> <file or folder>...\ntargets: "
              << nsa::fuzz::TargetNames() << std::endl;
    return 2;
  }
  const nsa::fuzz::Target target = nsa::fuzz::FindTarget(arguments[first]);
  if (target == nullptr)
  {
    std::cerr << "NSAFuzzReplay: unknown target '" << arguments[first] << "' (targets: " << nsa::fuzz::TargetNames()
              << ")" << std::endl;
    return 2;
  }
  if (check)
  {
    const std::string message = Run(target, arguments[first + 1]);
    if (message.empty())
    {
      std::cout << arguments[first + 1] << ": accepted" << std::endl;
      return 0;
    }
    std::cerr << "NSAFuzzReplay: error: " << message << std::endl;
    return 1;
  }
  std::vector<std::string> files;
  for (std::size_t i = first + 1; i < arguments.size(); ++i)
  {
    if (fs::is_directory(arguments[i]))
    {
      for (const auto & entry : fs::recursive_directory_iterator(arguments[i]))
      {
        if (entry.is_regular_file())
        {
          files.push_back(entry.path().string());
        }
      }
    }
    else
    {
      files.push_back(arguments[i]);
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto & file : files)
  {
    const std::string message = Run(target, file);
    std::cout << file << ": " << (message.empty() ? std::string("accepted") : "refused: " + message.substr(0, 200))
              << std::endl;
  }
  std::cout << files.size() << " inputs replayed, none crashed" << std::endl;
  return files.empty() ? 1 : 0;
}
