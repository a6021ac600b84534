#include "nsaManifest.h"

#include "nsaError.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace nsa
{

namespace
{

struct Field
{
  std::string  text;
  unsigned int line = 0; // line where the field ends (a quoted field may span lines)
};

std::string
Trim(const std::string & s)
{
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos)
  {
    return std::string();
  }
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

/** Splits CSV text into records of fields; records keep their first line number. */
std::vector<std::pair<unsigned int, std::vector<std::string>>>
SplitRecords(const std::string & text, const std::string & name)
{
  std::vector<std::pair<unsigned int, std::vector<std::string>>> records;
  size_t position = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
  {
    position = 3;
  }
  unsigned int line = 1;
  while (position < text.size())
  {
    const unsigned int       recordLine = line;
    const size_t             lineStart = position;
    std::vector<std::string> fields;
    std::string              field;
    bool                     quoted = false;
    bool                     wasQuoted = false;
    bool                     endOfRecord = false;
    while (!endOfRecord)
    {
      if (position >= text.size())
      {
        if (quoted)
        {
          throw InputError("Manifest '" + name + "', line " + std::to_string(recordLine) + ", column " +
                           std::to_string(fields.size() + 1) + ": unterminated quoted field");
        }
        endOfRecord = true;
        break;
      }
      const char c = text[position++];
      if (quoted)
      {
        if (c == '"')
        {
          if (position < text.size() && text[position] == '"')
          {
            field += '"';
            ++position;
          }
          else
          {
            quoted = false;
          }
        }
        else
        {
          if (c == '\n')
          {
            ++line;
          }
          field += c;
        }
      }
      else if (c == '"' && Trim(field).empty())
      {
        quoted = true;
        wasQuoted = true;
        field.clear();
      }
      else if (c == ',')
      {
        fields.push_back(wasQuoted ? field : Trim(field));
        field.clear();
        wasQuoted = false;
      }
      else if (c == '\n' || c == '\r')
      {
        if (c == '\r' && position < text.size() && text[position] == '\n')
        {
          ++position;
        }
        ++line;
        endOfRecord = true;
      }
      else if (wasQuoted)
      {
        if (c != ' ' && c != '\t')
        {
          throw InputError("Manifest '" + name + "', line " + std::to_string(line) + ", column " +
                           std::to_string(fields.size() + 1) + ": text after a closing quote");
        }
      }
      else
      {
        field += c;
      }
    }
    fields.push_back(wasQuoted ? field : Trim(field));
    const bool blank = fields.size() == 1 && fields.front().empty() && !wasQuoted;
    // Comments are whole lines with '#' in the first column, before the header row only:
    // after it every line is a case, so that a case id such as "#12" is never dropped.
    const bool comment = records.empty() && text[lineStart] == '#';
    if (!blank && !comment)
    {
      records.emplace_back(recordLine, fields);
    }
  }
  return records;
}

/** Position of the first byte that is not part of valid UTF-8 (overlong forms, surrogates
 * and code points above U+10FFFF are invalid), or npos. */
size_t
InvalidUtf8(const std::string & text)
{
  size_t i = 0;
  while (i < text.size())
  {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t              length = 0;
    unsigned int        codePoint = 0;
    if (c < 0x80)
    {
      ++i;
      continue;
    }
    else if (c >= 0xC2 && c <= 0xDF)
    {
      length = 2;
      codePoint = c & 0x1F;
    }
    else if (c >= 0xE0 && c <= 0xEF)
    {
      length = 3;
      codePoint = c & 0x0F;
    }
    else if (c >= 0xF0 && c <= 0xF4)
    {
      length = 4;
      codePoint = c & 0x07;
    }
    else
    {
      return i;
    }
    if (i + length > text.size())
    {
      return i;
    }
    for (size_t k = 1; k < length; ++k)
    {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80)
      {
        return i;
      }
      codePoint = (codePoint << 6) | (next & 0x3F);
    }
    const unsigned int smallest[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (codePoint < smallest[length] || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF))
    {
      return i;
    }
    i += length;
  }
  return std::string::npos;
}

std::string
Resolve(const std::string & value, const std::string & baseFolder)
{
  const fs::path p(value);
  if (p.is_absolute() || baseFolder.empty())
  {
    return p.lexically_normal().string();
  }
  return (fs::path(baseFolder) / p).lexically_normal().string();
}

} // namespace

std::vector<ManifestEntry>
ParseManifest(const std::string & text, const std::string & name, const std::string & baseFolder,
              const ManifestOptions & options)
{
  // Case ids and paths end up in JSON, CSV and HTML reports, which hold UTF-8 only: refused
  // here, before any work, rather than after every case has been evaluated.
  if (const size_t bad = InvalidUtf8(text); bad != std::string::npos)
  {
    const unsigned int line = 1 + static_cast<unsigned int>(std::count(text.begin(), text.begin() + static_cast<long>(bad), '\n'));
    const size_t       newline = bad == 0 ? std::string::npos : text.rfind('\n', bad - 1);
    const size_t       column = bad - (newline == std::string::npos ? 0 : newline + 1);
    throw InputError("Manifest '" + name + "', line " + std::to_string(line) + ", byte " + std::to_string(column + 1) +
                     ": not valid UTF-8 (save the manifest as UTF-8)");
  }
  const auto records = SplitRecords(text, name);
  if (records.empty())
  {
    throw InputError("Manifest '" + name + "' is empty (expected a header row: case_id,image[,mask][,label])");
  }
  const auto &                     header = records.front().second;
  std::map<std::string, size_t>    columns;
  for (size_t i = 0; i < header.size(); ++i)
  {
    if (columns.count(header[i]))
    {
      throw InputError("Manifest '" + name + "', line " + std::to_string(records.front().first) + ", column " +
                       std::to_string(i + 1) + ": column '" + header[i] + "' appears twice");
    }
    columns[header[i]] = i;
  }
  for (const char * required : { "case_id", "image" })
  {
    if (!columns.count(required))
    {
      throw InputError("Manifest '" + name + "', line " + std::to_string(records.front().first) +
                       ": the header has no column '" + required + "' (expected case_id,image[,mask][,label])");
    }
  }
  auto column = [&columns](const char * key) -> long {
    const auto it = columns.find(key);
    return it == columns.end() ? -1 : static_cast<long>(it->second);
  };
  const long caseColumn = column("case_id");
  const long imageColumn = column("image");
  const long maskColumn = column("mask");
  const long labelColumn = column("label");

  std::vector<ManifestEntry>          entries;
  std::map<std::string, unsigned int> seen;
  for (size_t r = 1; r < records.size(); ++r)
  {
    const unsigned int line = records[r].first;
    const auto &       fields = records[r].second;
    auto where = [&](long col) {
      return "Manifest '" + name + "', line " + std::to_string(line) + ", column " + std::to_string(col + 1) + " (" +
             header[static_cast<size_t>(col)] + ")";
    };
    if (fields.size() != header.size())
    {
      throw InputError("Manifest '" + name + "', line " + std::to_string(line) + ": " + std::to_string(fields.size()) +
                       " fields where the header has " + std::to_string(header.size()));
    }
    ManifestEntry entry;
    entry.line = line;
    entry.caseId = fields[static_cast<size_t>(caseColumn)];
    if (entry.caseId.empty())
    {
      throw InputError(where(caseColumn) + ": empty case_id");
    }
    if (std::any_of(entry.caseId.begin(), entry.caseId.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
    {
      throw InputError(where(caseColumn) + ": case_id holds a control character (line break, tab, ...)");
    }
    if (seen.count(entry.caseId))
    {
      throw InputError(where(caseColumn) + ": case_id '" + entry.caseId + "' already used on line " +
                       std::to_string(seen[entry.caseId]));
    }
    seen[entry.caseId] = line;
    const std::string & image = fields[static_cast<size_t>(imageColumn)];
    if (image.empty())
    {
      throw InputError(where(imageColumn) + ": empty image path for case '" + entry.caseId + "'");
    }
    entry.image = Resolve(image, baseFolder);
    if (options.checkFilesExist && !fs::exists(entry.image))
    {
      throw InputError(where(imageColumn) + ": image '" + entry.image + "' does not exist");
    }
    if (maskColumn >= 0 && !fields[static_cast<size_t>(maskColumn)].empty())
    {
      entry.mask = Resolve(fields[static_cast<size_t>(maskColumn)], baseFolder);
      if (options.checkFilesExist && !fs::exists(entry.mask))
      {
        throw InputError(where(maskColumn) + ": mask '" + entry.mask + "' does not exist");
      }
    }
    if (labelColumn >= 0 && !fields[static_cast<size_t>(labelColumn)].empty())
    {
      const std::string & label = fields[static_cast<size_t>(labelColumn)];
      if (label != "0" && label != "1")
      {
        throw InputError(where(labelColumn) + ": label '" + label + "' is not 0 (normal) or 1 (anomalous)");
      }
      entry.label = label == "1" ? 1 : 0;
    }
    entries.push_back(entry);
  }
  if (entries.empty())
  {
    throw InputError("Manifest '" + name + "' has a header but no case rows (nothing to evaluate)");
  }
  return entries;
}

std::vector<ManifestEntry>
ReadManifest(const std::string & path, const ManifestOptions & options)
{
  std::ifstream in(path, std::ios::binary);
  if (!in)
  {
    throw InputError("Cannot read manifest '" + path + "': " + (fs::exists(path) ? "cannot open it" : "no such file"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string folder = fs::path(path).parent_path().string();
  if (folder.empty())
  {
    folder = ".";
  }
  return ParseManifest(text.str(), path, folder, options);
}

} // namespace nsa
