#include "nsaFuzzTargets.h"

#include "nsaArchiveCheck.h"
#include "nsaCohortEvaluation.h"
#include "nsaDicomWriters.h"
#include "nsaError.h"
#include "nsaJsonText.h"
#include "nsaManifest.h"
#include "nsaModel.h"
#include "nsaParameterJson.h"
#include "nsaParameters.h"
#include "nsaPreset.h"
#include "nsaResNetEncoderDecoder.h"
#include "nsaStateDictReader.h"

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>

namespace nsa::fuzz
{

namespace
{

/** A private folder for the files the readers need (they take paths), removed at exit. */
struct TemporaryFolder
{
  std::string path;
  TemporaryFolder()
  {
    const char * base = std::getenv("TMPDIR");
    path = std::string(base && *base ? base : "/tmp") + "/nsa-fuzz-XXXXXX";
    if (mkdtemp(&path[0]) == nullptr)
    {
      std::abort();
    }
  }
  ~TemporaryFolder()
  {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

const std::string &
Folder()
{
  static const TemporaryFolder folder;
  return folder.path;
}

std::string
WriteFile(const std::string & name, const void * data, std::size_t size)
{
  const std::string path = Folder() + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(static_cast<const char *>(data),
                                                                static_cast<std::streamsize>(size));
  return path;
}

void
Put(std::string & out, std::uint64_t value, int bytes)
{
  for (int i = 0; i < bytes; ++i)
  {
    out += static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

/** A stored zip archive of `records` (name, data), as PyTorch writes them. */
std::string
StoredZip(const std::vector<std::pair<std::string, std::string>> & records)
{
  std::string file;
  std::string directory;
  for (const auto & [name, data] : records)
  {
    const auto  crc = crc32(0, reinterpret_cast<const Bytef *>(data.data()), static_cast<uInt>(data.size()));
    std::string common;
    Put(common, 20, 2);
    Put(common, 0, 2);
    Put(common, 0, 2);
    Put(common, 0, 4);
    Put(common, crc, 4);
    Put(common, data.size(), 4);
    Put(common, data.size(), 4);
    Put(common, name.size(), 2);
    Put(common, 0, 2);
    const std::uint64_t offset = file.size();
    Put(file, 0x04034b50, 4);
    file += common + name + data;
    Put(directory, 0x02014b50, 4);
    Put(directory, 20, 2);
    directory += common;
    Put(directory, 0, 4); // comment length, disk
    Put(directory, 0, 2); // internal attributes
    Put(directory, 0, 4); // external attributes
    Put(directory, offset, 4);
    directory += name;
  }
  const std::uint64_t directoryOffset = file.size();
  file += directory;
  Put(file, 0x06054b50, 4);
  Put(file, 0, 4);
  Put(file, records.size(), 2);
  Put(file, records.size(), 2);
  Put(file, directory.size(), 4);
  Put(file, directoryOffset, 4);
  Put(file, 0, 2);
  return file;
}

EncoderDecoder &
BrainNetwork()
{
  static const std::shared_ptr<EncoderDecoder> network = [] {
    NetworkParameters configuration;
    configuration.dimension = 2;
    configuration.width_multiplier = 0.25;
    configuration.input_channels = 1;
    return MakeNetwork(configuration);
  }();
  return *network;
}

} // namespace

void
JsonParameters(const std::uint8_t * data, std::size_t size)
{
  const nlohmann::json json = ParseJsonText(std::string(reinterpret_cast<const char *>(data), size), "'fuzz.json'");
  JsonForMessage(json);
  // As a preset (every section), and as a synthesis parameter file.
  try
  {
    PresetFromJson(json, "preset 'fuzz.json'");
  }
  catch (const Error &)
  {
  }
  SynthesisParameters synthesis;
  UpdateFromJson(synthesis, json.is_object() && json.contains("synthesis") ? json.at("synthesis") : json, "fuzz");
}

void
Manifest(const std::uint8_t * data, std::size_t size)
{
  ManifestOptions options;
  options.checkFilesExist = false;
  ParseManifest(std::string(reinterpret_cast<const char *>(data), size), "fuzz.csv", Folder(), options);
}

void
ModelFiles(const std::uint8_t * data, std::size_t size)
{
  if (size == 0)
  {
    return;
  }
  std::string path;
  if (data[0] == 0)
  {
    path = WriteFile("model.pt", data + 1, size - 1);
  }
  else
  {
    std::vector<std::pair<std::string, std::string>> records;
    records.emplace_back("archive/data.pkl", std::string(reinterpret_cast<const char *>(data + 1), size - 1));
    for (int key = 0; key < 64; ++key)
    {
      records.emplace_back("archive/data/" + std::to_string(key), std::string(64, '\0'));
    }
    records.emplace_back("archive/version", "3\n");
    const std::string zip = StoredZip(records);
    path = WriteFile("state_dict.pt", zip.data(), zip.size());
  }
  std::exception_ptr first;
  try
  {
    LoadNamedTensors(BrainNetwork(), ReadStateDict(path), "fuzz");
  }
  catch (const std::bad_alloc &)
  {
    throw;
  }
  catch (const std::exception &)
  {
    first = std::current_exception();
  }
  if (data[0] == 0)
  {
    Model::Load(path);
  }
  if (first)
  {
    std::rethrow_exception(first);
  }
}

void
StateDictFile(const std::uint8_t * data, std::size_t size)
{
  LoadNamedTensors(BrainNetwork(), ReadStateDict(WriteFile("state_dict.pt", data, size)), "state dict");
}

void
Shard(const std::uint8_t * data, std::size_t size)
{
  CohortEvaluation::ReadPartial(WriteFile("partial.nsaeval", data, size));
}

void
DicomSegPm(const std::uint8_t * data, std::size_t size)
{
  const std::string  path = WriteFile("object.dcm", data, size);
  std::exception_ptr first;
  try
  {
    ReadDicomSegmentation(path);
  }
  catch (const std::bad_alloc &)
  {
    throw;
  }
  catch (...)
  {
    first = std::current_exception();
  }
  ReadParametricMap(path);
  if (first)
  {
    std::rethrow_exception(first);
  }
}

Target
FindTarget(const std::string & name)
{
  if (name == "json_parameters")
  {
    return &JsonParameters;
  }
  if (name == "manifest")
  {
    return &Manifest;
  }
  if (name == "model")
  {
    return &ModelFiles;
  }
  if (name == "state_dict")
  {
    return &StateDictFile;
  }
  if (name == "shard")
  {
    return &Shard;
  }
  if (name == "seg_pm")
  {
    return &DicomSegPm;
  }
  return nullptr;
}

const char *
TargetNames()
{
  return "json_parameters manifest model shard seg_pm state_dict";
}

} // namespace nsa::fuzz
