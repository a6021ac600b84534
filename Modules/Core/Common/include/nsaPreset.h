#ifndef nsaPreset_h
#define nsaPreset_h

#include "nsaParameters.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace nsa
{

/** \class Preset
 * \brief A named set of parameters for one kind of data (an MVTec AD class, brain MRI,
 * abdominal CT...), stored as JSON in Data/Presets/<name>.json:
 *
 * \code{.json}
 * { "name": "brain-mri", "description": "...", "modality": "MR", "reference": "...",
 *   "normalisation": {...}, "synthesis": {...}, "network": {...}, "training": {...},
 *   "augmentation": {...}, "prediction": {...} }
 * \endcode
 *
 * Every section is optional; absent keys keep the defaults of nsaParameters.h. Unknown keys,
 * wrong types and out-of-range values are rejected with a message naming the preset, the
 * section and the key.
 */
struct Preset
{
  std::string             name;
  std::string             description;
  std::string             modality;
  std::string             reference;
  NormalisationParameters normalisation;
  SynthesisParameters     synthesis;
  NetworkParameters       network;
  TrainingParameters      training;
  AugmentationParameters  augmentation;
  PredictionParameters    prediction;
};

nlohmann::json
PresetToJson(const Preset & preset);

/** `context` names the origin in messages (a file name). */
Preset
PresetFromJson(const nlohmann::json & object, const std::string & context);

/** Folders searched for presets by name, in order: each entry of the environment variable
 * NSA_PRESET_PATH (':'-separated), the source tree's Data/Presets, the installed
 * share/NSAToolkit/Presets. */
std::vector<std::string>
PresetSearchPath();

/** Names of all presets found on the search path, sorted, without duplicates. */
std::vector<std::string>
AvailablePresets();

/** Loads a preset by name (searched on PresetSearchPath()) or by path to a JSON file (any
 * argument that contains '/' or ends in ".json"). An unknown name throws ParameterError
 * listing the available presets; a missing or malformed file throws naming the file. */
Preset
LoadPreset(const std::string & nameOrPath);

/** Reads a whole JSON file; throws InputError naming the file and the parse error. */
nlohmann::json
ReadJsonFile(const std::string & path);

/** The toolkit's version ("0.1.0"). */
const char *
Version();

} // namespace nsa

#endif
