#include "nsaStudyList.h"

#include "nsaError.h"
#include "nsaManifest.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

namespace nsa
{

namespace
{

namespace fs = std::filesystem;

const char * const ImageExtensions[] = { ".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd",
                                         ".png",    ".dcm", ".ima",  ".img.gz", ".hdr" };

std::string
Lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool
EndsWith(const std::string & text, const std::string & suffix)
{
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool
IsImageFile(const std::string & name)
{
  const std::string lower = Lower(name);
  return std::any_of(std::begin(ImageExtensions), std::end(ImageExtensions), [&](const char * e) {
    return EndsWith(lower, e);
  });
}

} // namespace

std::string
StudyName(const std::string & path)
{
  std::string name = fs::path(path).filename().string();
  if (name.empty())
  {
    name = fs::path(path).parent_path().filename().string(); // "folder/"
  }
  const std::string lower = Lower(name);
  for (const char * extension : ImageExtensions)
  {
    if (EndsWith(lower, extension) && lower.size() > std::string(extension).size())
    {
      return name.substr(0, name.size() - std::string(extension).size());
    }
  }
  return name;
}

std::vector<StudyEntry>
ListStudies(const std::string & source)
{
  std::error_code error;
  if (!fs::exists(source, error))
  {
    throw InputError("'" + source + "': no such file or folder");
  }
  std::vector<StudyEntry> studies;
  const std::string       lower = Lower(source);
  if (fs::is_directory(source, error))
  {
    for (const auto & entry : fs::directory_iterator(source))
    {
      const std::string name = entry.path().filename().string();
      if (name.empty() || name[0] == '.')
      {
        continue;
      }
      if (entry.is_directory() || IsImageFile(name))
      {
        studies.push_back({ StudyName(entry.path().string()), entry.path().string() });
      }
    }
    std::sort(studies.begin(), studies.end(), [](const StudyEntry & a, const StudyEntry & b) {
      return a.path < b.path;
    });
  }
  else if (EndsWith(lower, ".csv"))
  {
    for (const auto & entry : ReadManifest(source))
    {
      studies.push_back({ entry.caseId, entry.image });
    }
  }
  else if (EndsWith(lower, ".txt") || EndsWith(lower, ".lst"))
  {
    std::ifstream     list(source);
    std::string       line;
    const fs::path    base = fs::path(source).parent_path();
    unsigned int      number = 0;
    while (std::getline(list, line))
    {
      ++number;
      line.erase(0, line.find_first_not_of(" \t\r"));
      line.erase(line.find_last_not_of(" \t\r") + 1);
      if (line.empty() || line[0] == '#')
      {
        continue;
      }
      fs::path path(line);
      if (path.is_relative())
      {
        path = base / path;
      }
      if (!fs::exists(path, error))
      {
        throw InputError("'" + source + "' line " + std::to_string(number) + ": '" + path.string() +
                         "' does not exist");
      }
      studies.push_back({ StudyName(path.string()), path.string() });
    }
  }
  else if (IsImageFile(source))
  {
    studies.push_back({ StudyName(source), source });
  }
  else
  {
    throw InputError("'" + source + "': expected a folder, a list file (.txt, .lst), a manifest (.csv) or an image");
  }
  if (studies.empty())
  {
    throw InputError("'" + source + "': lists no study");
  }
  return studies;
}

} // namespace nsa
