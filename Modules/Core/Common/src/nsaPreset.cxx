#include "nsaPreset.h"
#include "nsaParameterJson.h"

#include "nsaJsonText.h"

#include "nsaError.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace nsa
{

const char *
Version()
{
  return NSA_VERSION;
}

nlohmann::json
PresetToJson(const Preset & preset)
{
  nlohmann::json object;
  object["name"] = preset.name;
  object["description"] = preset.description;
  object["modality"] = preset.modality;
  object["reference"] = preset.reference;
  object["normalisation"] = ToJson(preset.normalisation);
  object["synthesis"] = ToJson(preset.synthesis);
  object["network"] = ToJson(preset.network);
  object["training"] = ToJson(preset.training);
  object["augmentation"] = ToJson(preset.augmentation);
  object["prediction"] = ToJson(preset.prediction);
  return object;
}

Preset
PresetFromJson(const nlohmann::json & original, const std::string & context)
{
  if (!original.is_object())
  {
    throw ParameterError(context + ": a preset must be a JSON object");
  }
  const nlohmann::json object = MigrateNetworkKeys(original, context);
  static const std::set<std::string> sections{ "name",      "description", "modality", "reference",
                                               "normalisation", "synthesis", "network", "training",
                                               "augmentation", "prediction" };
  for (auto it = object.begin(); it != object.end(); ++it)
  {
    if (sections.count(it.key()) == 0)
    {
      throw ParameterError(context + ": unknown key '" + it.key() +
                           "' (allowed keys: name, description, modality, reference, normalisation, synthesis, "
                           "network, training, augmentation, prediction)");
    }
  }
  Preset preset;
  auto   text = [&](const char * key, std::string & value) {
    if (object.contains(key))
    {
      if (!object[key].is_string())
      {
        throw ParameterError(context + "." + key + ": expected a string, got " + JsonForMessage(object[key]));
      }
      value = object[key].get<std::string>();
    }
  };
  text("name", preset.name);
  text("description", preset.description);
  text("modality", preset.modality);
  text("reference", preset.reference);
  if (object.contains("normalisation"))
  {
    UpdateFromJson(preset.normalisation, object["normalisation"], context + ".normalisation");
  }
  if (object.contains("synthesis"))
  {
    UpdateFromJson(preset.synthesis, object["synthesis"], context + ".synthesis");
  }
  if (object.contains("network"))
  {
    UpdateFromJson(preset.network, object["network"], context + ".network");
  }
  if (object.contains("training"))
  {
    UpdateFromJson(preset.training, object["training"], context + ".training");
    try
    {
      preset.training.Validate(preset.network);
    }
    catch (const ParameterError & error)
    {
      throw ParameterError(context + ".training: " + error.what());
    }
  }
  if (object.contains("augmentation"))
  {
    UpdateFromJson(preset.augmentation, object["augmentation"], context + ".augmentation");
  }
  if (object.contains("prediction"))
  {
    UpdateFromJson(preset.prediction, object["prediction"], context + ".prediction");
  }
  return preset;
}

std::vector<std::string>
PresetSearchPath()
{
  std::vector<std::string> folders;
  if (const char * variable = std::getenv("NSA_PRESET_PATH"))
  {
    std::stringstream stream(variable);
    std::string       entry;
    while (std::getline(stream, entry, ':'))
    {
      if (!entry.empty())
      {
        folders.push_back(entry);
      }
    }
  }
  folders.emplace_back(NSA_PRESET_DIR_BUILD);
  folders.emplace_back(NSA_PRESET_DIR_INSTALL);
  return folders;
}

std::vector<std::string>
AvailablePresets()
{
  std::set<std::string> names;
  for (const auto & folder : PresetSearchPath())
  {
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
    {
      continue;
    }
    for (const auto & entry : fs::directory_iterator(folder, ec))
    {
      if (entry.path().extension() == ".json")
      {
        names.insert(entry.path().stem().string());
      }
    }
  }
  return { names.begin(), names.end() };
}

nlohmann::json
ReadJsonFile(const std::string & path)
{
  std::ifstream stream(path, std::ios::binary);
  if (!stream)
  {
    throw InputError("Cannot read '" + path + "': file not found or not readable");
  }
  std::ostringstream text;
  text << stream.rdbuf();
  if (!stream && !stream.eof())
  {
    throw InputError("Cannot read '" + path + "'");
  }
  return ParseJsonText(text.str(), "'" + path + "'");
}

Preset
LoadPreset(const std::string & nameOrPath)
{
  if (nameOrPath.empty())
  {
    throw ParameterError("preset: empty name");
  }
  std::string path;
  const bool  isPath = nameOrPath.find('/') != std::string::npos ||
                      (nameOrPath.size() > 5 && nameOrPath.compare(nameOrPath.size() - 5, 5, ".json") == 0);
  if (isPath)
  {
    path = nameOrPath;
  }
  else
  {
    for (const auto & folder : PresetSearchPath())
    {
      const fs::path candidate = fs::path(folder) / (nameOrPath + ".json");
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec))
      {
        path = candidate.string();
        break;
      }
    }
    if (path.empty())
    {
      std::string available;
      for (const auto & name : AvailablePresets())
      {
        available += (available.empty() ? "" : ", ") + name;
      }
      throw ParameterError("preset '" + nameOrPath + "' not found (available: " +
                           (available.empty() ? std::string("none") : available) +
                           "; or give the path of a JSON file)");
    }
  }
  Preset preset = PresetFromJson(ReadJsonFile(path), "preset '" + path + "'");
  if (preset.name.empty())
  {
    preset.name = fs::path(path).stem().string();
  }
  return preset;
}

} // namespace nsa
