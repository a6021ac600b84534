#include "nsaCohortEvaluation.h"

#include "nsaAtomicOutput.h"
#include "nsaError.h"
#include "nsaJsonText.h"
#include "nsaParameterJson.h"
#include "nsaPreset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace nsa
{

namespace
{
const char * const kPartialMagic = "NSA-EVALUATION-PARTIAL 1\n";

nlohmann::json
SettingsToJson(const EvaluationSettings & settings)
{
  return { { "threshold", settings.voxel.threshold },
           { "fully_connected", settings.voxel.fullyConnected },
           { "score_bits", settings.voxel.scoreBits },
           { "fpr_limit", settings.fprLimit },
           { "region", settings.region } };
}

EvaluationSettings
SettingsFromJson(const nlohmann::json & json)
{
  EvaluationSettings settings;
  settings.voxel.threshold = json.at("threshold").get<double>();
  settings.voxel.fullyConnected = json.at("fully_connected").get<bool>();
  settings.voxel.scoreBits = json.at("score_bits").get<int>();
  settings.fprLimit = json.at("fpr_limit").get<double>();
  settings.region = json.at("region").get<std::string>();
  return settings;
}

template <typename T>
nlohmann::json
Optional(const std::optional<T> & value)
{
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

template <typename T>
std::optional<T>
OptionalFrom(const nlohmann::json & json)
{
  if (json.is_null())
  {
    return std::nullopt;
  }
  return json.get<T>();
}

nlohmann::json
CaseToJson(const CaseRecord & record)
{
  return { { "index", record.index },
           { "case_id", record.caseId },
           { "image", record.image },
           { "mask", record.mask },
           { "map", record.map },
           { "score", Optional(record.score) },
           { "score_source", record.scoreSource },
           { "label", Optional(record.label) },
           { "voxel_level", record.voxelLevel },
           { "evaluated_voxels", record.evaluatedVoxels },
           { "lesion_voxels", record.lesionVoxels },
           { "components", record.components },
           { "true_positives", record.counts.truePositives },
           { "false_positives", record.counts.falsePositives },
           { "false_negatives", record.counts.falseNegatives },
           { "true_negatives", record.counts.trueNegatives },
           { "max_score", record.maxScore },
           { "peak_slice", record.peakSlice },
           { "lesion_slice", record.lesionSlice } };
}

/** A non-negative integer of at most `maximum` under `key`; refuses negative, fractional and
 * too large values by name (nlohmann's get<std::uint64_t>() would wrap -1 to 2^64 - 1). */
std::uint64_t
CheckedUnsigned(const nlohmann::json & object, const char * key, std::uint64_t maximum, const std::string & where)
{
  const nlohmann::json & item = object.at(key);
  if (!item.is_number_unsigned())
  {
    throw InputError(where + ": '" + key + "' is " + JsonForMessage(item) + ", not a non-negative integer");
  }
  const auto value = item.get<std::uint64_t>();
  if (value > maximum)
  {
    throw InputError(where + ": '" + key + "' is " + std::to_string(value) + ", above the limit " +
                     std::to_string(maximum));
  }
  return value;
}

CaseRecord
CaseFromJson(const nlohmann::json & json, const std::string & where)
{
  if (!json.is_object())
  {
    throw InputError(where + ": a case record is not a JSON object");
  }
  constexpr auto Any = std::numeric_limits<std::uint64_t>::max();
  CaseRecord     record;
  record.index = CheckedUnsigned(json, "index", PartialLimits::MaxCases, where);
  const std::string at = where + ": case at manifest row " + std::to_string(record.index + 1);
  record.caseId = json.at("case_id").get<std::string>();
  record.image = json.at("image").get<std::string>();
  record.mask = json.at("mask").get<std::string>();
  record.map = json.at("map").get<std::string>();
  record.score = OptionalFrom<double>(json.at("score"));
  record.scoreSource = json.at("score_source").get<std::string>();
  record.label = OptionalFrom<bool>(json.at("label"));
  record.voxelLevel = json.at("voxel_level").get<bool>();
  record.evaluatedVoxels = CheckedUnsigned(json, "evaluated_voxels", Any, at);
  record.lesionVoxels = CheckedUnsigned(json, "lesion_voxels", record.evaluatedVoxels, at);
  record.components = CheckedUnsigned(json, "components", record.lesionVoxels, at);
  record.counts.truePositives = CheckedUnsigned(json, "true_positives", record.lesionVoxels, at);
  record.counts.falsePositives = CheckedUnsigned(json, "false_positives", record.evaluatedVoxels, at);
  record.counts.falseNegatives = CheckedUnsigned(json, "false_negatives", record.lesionVoxels, at);
  record.counts.trueNegatives = CheckedUnsigned(json, "true_negatives", record.evaluatedVoxels, at);
  const auto & counts = record.counts;
  if (record.voxelLevel && (counts.truePositives + counts.falseNegatives != record.lesionVoxels ||
                            counts.falsePositives + counts.trueNegatives != record.evaluatedVoxels - record.lesionVoxels))
  {
    throw InputError(at + ": voxel counts do not add up (true positives + false negatives must be the lesion "
                          "voxels, false positives + true negatives the other evaluated voxels)");
  }
  record.maxScore = json.at("max_score").get<double>();
  record.peakSlice = json.at("peak_slice").get<long>();
  record.lesionSlice = json.at("lesion_slice").get<long>();
  return record;
}

template <typename T>
void
WriteValue(std::ostream & out, T value)
{
  static_assert(std::is_trivially_copyable<T>::value, "raw value");
  // Partial files are little-endian; every platform the toolkit builds on is.
  out.write(reinterpret_cast<const char *>(&value), sizeof(T));
}

template <typename T>
T
ReadValue(std::istream & in, const std::string & path)
{
  T value;
  in.read(reinterpret_cast<char *>(&value), sizeof(T));
  if (!in)
  {
    throw InputError(path + ": partial evaluation result is truncated");
  }
  return value;
}
/** The cases of shard k of n of a `cases`-row manifest, from a partial result's header:
 * exactly the rows k, k + n, ..., each once, in manifest order. */
std::vector<CaseRecord>
ShardCases(const nlohmann::json & records, std::uint64_t k, std::uint64_t n, std::uint64_t cases,
           const std::string & where)
{
  std::vector<CaseRecord> result;
  if (!records.is_array())
  {
    throw InputError(where + ": 'cases' is not a list");
  }
  for (const auto & item : records)
  {
    CaseRecord record = CaseFromJson(item, where);
    if (record.index >= cases || record.index % n != k)
    {
      throw InputError(where + ": case at manifest row " + std::to_string(record.index + 1) +
                       " does not belong to this shard of a " + std::to_string(cases) + "-case manifest");
    }
    result.push_back(std::move(record));
  }
  std::sort(result.begin(), result.end(),
            [](const CaseRecord & a, const CaseRecord & b) { return a.index < b.index; });
  for (std::size_t i = 1; i < result.size(); ++i)
  {
    if (result[i].index == result[i - 1].index)
    {
      throw InputError(where + ": manifest row " + std::to_string(result[i].index + 1) +
                       " appears twice");
    }
  }
  // Every row k, k + n, ... of the manifest is evaluated by shard k.
  const std::uint64_t expected = cases > k ? (cases - k - 1) / n + 1 : 0;
  if (result.size() != expected)
  {
    throw InputError(where + ": holds " + std::to_string(result.size()) + " cases, but shard " +
                     std::to_string(k) + " of a " + std::to_string(cases) + "-case manifest split into " +
                     std::to_string(n) + " has " + std::to_string(expected));
  }
  return result;
}

/** The score table of a partial result: a count, then that many entries (score, positives,
 * negatives, PRO weight), which must fill the rest of the file (`fileSize` bytes) exactly;
 * the positive and negative counts are summed (overflow refused). */
std::vector<ScoreTable<float>::Entry>
ReadScoreTableEntries(std::istream & in, std::streamoff fileSize, const std::string & path, const std::string & where,
                      std::uint64_t & positives, std::uint64_t & negatives)
{
  constexpr std::uint64_t EntryBytes = sizeof(float) + 4 * sizeof(std::uint64_t);
  const auto              count = ReadValue<std::uint64_t>(in, path);
  const auto              remaining = static_cast<std::uint64_t>(fileSize - in.tellg());
  if (count > remaining / EntryBytes)
  {
    throw InputError(where + ": claims " + std::to_string(count) + " score table entries, but only " +
                     std::to_string(remaining) + " bytes are left (" + std::to_string(EntryBytes) +
                     " per entry)");
  }
  if (remaining != count * EntryBytes)
  {
    throw InputError(where + ": " + std::to_string(remaining - count * EntryBytes) +
                     " unexpected bytes after the score table");
  }
  std::vector<ScoreTable<float>::Entry> entries;
  entries.reserve(count);
  positives = 0;
  negatives = 0;
  for (std::uint64_t i = 0; i < count; ++i)
  {
    ScoreTable<float>::Entry entry;
    entry.score = ReadValue<float>(in, path);
    entry.positives = ReadValue<std::uint64_t>(in, path);
    entry.negatives = ReadValue<std::uint64_t>(in, path);
    entry.proWeight.low = ReadValue<std::uint64_t>(in, path);
    entry.proWeight.high = ReadValue<std::uint64_t>(in, path);
    if (__builtin_add_overflow(positives, entry.positives, &positives) ||
        __builtin_add_overflow(negatives, entry.negatives, &negatives))
    {
      throw InputError(where + ": score table counts overflow");
    }
    entries.push_back(entry);
  }
  return entries;
}

} // namespace

bool
EvaluationSettings::operator==(const EvaluationSettings & other) const
{
  return voxel.threshold == other.voxel.threshold && voxel.fullyConnected == other.voxel.fullyConnected &&
         voxel.scoreBits == other.voxel.scoreBits && fprLimit == other.fprLimit && region == other.region;
}

std::optional<double>
CaseRecord::Dice() const
{
  return voxelLevel ? std::optional<double>(DiceFromCounts(counts)) : std::nullopt;
}

std::optional<double>
CaseRecord::IoU() const
{
  return voxelLevel ? std::optional<double>(IoUFromCounts(counts)) : std::nullopt;
}

CohortEvaluation::CohortEvaluation(EvaluationSettings settings)
  : m_Settings(std::move(settings))
{}

void
CohortEvaluation::AddCase(CaseRecord record, const CaseVoxelResult * voxels)
{
  auto position = std::lower_bound(m_Cases.begin(), m_Cases.end(), record.index,
                                   [](const CaseRecord & c, std::size_t index) { return c.index < index; });
  if (position != m_Cases.end() && position->index == record.index)
  {
    throw InputError("case " + record.caseId + " (manifest row " + std::to_string(record.index + 1) +
                     ") is evaluated twice");
  }
  if (record.voxelLevel != (voxels != nullptr))
  {
    throw Error("CohortEvaluation::AddCase: voxel result given for a case that is not voxel-level, or missing");
  }
  if (voxels != nullptr)
  {
    PushVoxelTable(voxels->table);
  }
  m_Cases.insert(position, std::move(record));
}

void
CohortEvaluation::Merge(const CohortEvaluation & other)
{
  if (!(m_Settings == other.m_Settings))
  {
    throw InputError("cannot merge evaluations with different settings: " + SettingsToJson(m_Settings).dump() +
                     " and " + SettingsToJson(other.m_Settings).dump());
  }
  std::vector<CaseRecord> merged;
  merged.reserve(m_Cases.size() + other.m_Cases.size());
  std::merge(m_Cases.begin(), m_Cases.end(), other.m_Cases.begin(), other.m_Cases.end(), std::back_inserter(merged),
             [](const CaseRecord & a, const CaseRecord & b) { return a.index < b.index; });
  for (size_t i = 1; i < merged.size(); ++i)
  {
    if (merged[i].index == merged[i - 1].index)
    {
      throw InputError("case " + merged[i].caseId + " (manifest row " + std::to_string(merged[i].index + 1) +
                       ") appears in two parts of the evaluation");
    }
  }
  m_Cases = std::move(merged);
  for (const auto & level : other.m_VoxelLevels)
  {
    PushVoxelTable(level);
  }
}

void
CohortEvaluation::PushVoxelTable(ScoreTable<float> table)
{
  for (auto & level : m_VoxelLevels)
  {
    if (table.Empty())
    {
      return;
    }
    if (level.Empty())
    {
      level = std::move(table);
      return;
    }
    table.Merge(level);
    level = ScoreTable<float>();
  }
  if (!table.Empty())
  {
    m_VoxelLevels.push_back(std::move(table));
  }
}

ScoreTable<float>
CohortEvaluation::VoxelTable() const
{
  ScoreTable<float> table;
  for (const auto & level : m_VoxelLevels)
  {
    table.Merge(level);
  }
  return table;
}

CohortMetrics
CohortEvaluation::Compute(std::size_t curvePoints) const
{
  CohortMetrics metrics;
  metrics.cases = m_Cases.size();
  std::vector<double> caseScores;
  std::vector<bool>   caseLabels;
  long double         diceSum = 0;
  long double         iouSum = 0;
  std::size_t         diceCases = 0;
  for (const CaseRecord & record : m_Cases)
  {
    if (record.label)
    {
      ++(*record.label ? metrics.anomalousCases : metrics.normalCases);
    }
    if (record.score)
    {
      ++metrics.scoredCases;
      if (record.label)
      {
        caseScores.push_back(*record.score);
        caseLabels.push_back(*record.label);
      }
    }
    if (record.voxelLevel)
    {
      ++metrics.voxelCases;
      metrics.voxels += record.evaluatedVoxels;
      metrics.lesionVoxels += record.lesionVoxels;
      metrics.components += record.components;
      metrics.pooledCounts.truePositives += record.counts.truePositives;
      metrics.pooledCounts.falsePositives += record.counts.falsePositives;
      metrics.pooledCounts.falseNegatives += record.counts.falseNegatives;
      metrics.pooledCounts.trueNegatives += record.counts.trueNegatives;
      if (record.lesionVoxels > 0)
      {
        diceSum += *record.Dice();
        iouSum += *record.IoU();
        ++diceCases;
      }
    }
  }
  const auto caseTable = ScoreTable<double>::FromLabelledScores(caseScores, caseLabels);
  metrics.caseAuroc = AreaUnderRocCurve(caseTable);
  metrics.caseAveragePrecision = AveragePrecision(caseTable);
  metrics.caseRoc = RocCurve(caseTable, curvePoints);
  metrics.casePrecisionRecall = PrecisionRecallCurve(caseTable, curvePoints);

  const ScoreTable<float> voxelTable = VoxelTable();
  metrics.distinctVoxelScores = voxelTable.Entries().size();
  metrics.voxelAuroc = AreaUnderRocCurve(voxelTable);
  metrics.voxelAveragePrecision = AveragePrecision(voxelTable);
  metrics.auPro = AreaUnderProCurve(voxelTable, metrics.components, m_Settings.fprLimit);
  metrics.voxelRoc = RocCurve(voxelTable, curvePoints);
  metrics.voxelPrecisionRecall = PrecisionRecallCurve(voxelTable, curvePoints);
  metrics.pro = ProCurve(voxelTable, metrics.components, curvePoints);
  metrics.bestDice = MaximumDice(voxelTable);
  if (metrics.voxelCases > 0)
  {
    metrics.pooledDice = DiceFromCounts(metrics.pooledCounts);
    metrics.pooledIoU = IoUFromCounts(metrics.pooledCounts);
  }
  if (diceCases > 0)
  {
    metrics.meanDice = static_cast<double>(diceSum / diceCases);
    metrics.meanIoU = static_cast<double>(iouSum / diceCases);
  }
  return metrics;
}

void
CohortEvaluation::WritePartial(const std::string & path, int shard, int shards, std::size_t manifestCases) const
{
  nlohmann::json header;
  header["format"] = "nsa-evaluation-partial";
  header["software_version"] = Version();
  header["shard"] = shard;
  header["shards"] = shards;
  header["manifest_cases"] = manifestCases;
  header["settings"] = SettingsToJson(m_Settings);
  header["cases"] = nlohmann::json::array();
  for (const CaseRecord & record : m_Cases)
  {
    header["cases"].push_back(CaseToJson(record));
  }
  const std::string text = header.dump();

  AtomicOutput output(path);
  {
    std::ofstream out(output.TemporaryPath(), std::ios::binary);
    out.write(kPartialMagic, static_cast<std::streamsize>(std::strlen(kPartialMagic)));
    WriteValue<std::uint64_t>(out, text.size());
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    const ScoreTable<float> voxelTable = VoxelTable();
    WriteValue<std::uint64_t>(out, voxelTable.Entries().size());
    for (const auto & entry : voxelTable.Entries())
    {
      WriteValue(out, entry.score);
      WriteValue(out, entry.positives);
      WriteValue(out, entry.negatives);
      WriteValue(out, entry.proWeight.low);
      WriteValue(out, entry.proWeight.high);
    }
    out.flush();
    if (!out)
    {
      throw OutputError(path + ": writing the partial evaluation result failed (disk full?)");
    }
  }
  output.Commit();
}

CohortEvaluation
CohortEvaluation::ReadPartial(const std::string & path, int * shard, int * shards, std::uint64_t * manifestCases)
{
  std::ifstream in(path, std::ios::binary);
  if (!in)
  {
    throw InputError(path + ": cannot open the partial evaluation result");
  }
  in.seekg(0, std::ios::end);
  const std::streamoff fileSize = in.tellg();
  in.seekg(0);
  std::string magic(std::strlen(kPartialMagic), '\0');
  in.read(&magic[0], static_cast<std::streamsize>(magic.size()));
  if (!in || magic != kPartialMagic)
  {
    throw InputError(path + ": not a partial evaluation result of NSAEvaluate (expected the line " +
                     "'NSA-EVALUATION-PARTIAL 1')");
  }
  // Every length is checked against the bytes left in the file before anything is allocated.
  const auto remaining = [&]() { return static_cast<std::uint64_t>(fileSize - in.tellg()); };
  const auto length = ReadValue<std::uint64_t>(in, path);
  if (length > remaining())
  {
    throw InputError(path + ": header length " + std::to_string(length) + " exceeds the " +
                     std::to_string(remaining()) + " bytes left in the file (corrupt or truncated)");
  }
  std::string text(length, '\0');
  in.read(&text[0], static_cast<std::streamsize>(length));
  if (!in)
  {
    throw InputError(path + ": partial evaluation result is truncated");
  }
  const nlohmann::json header = ParseJsonText(text, path + ": header");
  try
  {
    if (!header.is_object() || header.value("format", std::string()) != "nsa-evaluation-partial")
    {
      throw InputError(path + ": header is not that of a partial evaluation result");
    }
    if (!header.contains("manifest_cases"))
    {
      throw InputError(path + ": header has no 'manifest_cases' (written by an older NSAEvaluate: evaluate the "
                              "shards again)");
    }
    const std::uint64_t n = CheckedUnsigned(header, "shards", PartialLimits::MaxShards, path);
    if (n == 0)
    {
      throw InputError(path + ": 'shards' is 0");
    }
    const std::uint64_t k = CheckedUnsigned(header, "shard", n - 1, path);
    const std::uint64_t cases = CheckedUnsigned(header, "manifest_cases", PartialLimits::MaxCases, path);
    const std::string   where = path + " (shard " + std::to_string(k) + "/" + std::to_string(n) + ")";

    CohortEvaluation evaluation(SettingsFromJson(header.at("settings")));
    evaluation.m_Cases = ShardCases(header.at("cases"), k, n, cases, where);
    if (shard != nullptr)
    {
      *shard = static_cast<int>(k);
    }
    if (shards != nullptr)
    {
      *shards = static_cast<int>(n);
    }
    if (manifestCases != nullptr)
    {
      *manifestCases = cases;
    }

    std::uint64_t                         positives = 0;
    std::uint64_t                         negatives = 0;
    std::vector<ScoreTable<float>::Entry> entries =
      ReadScoreTableEntries(in, fileSize, path, where, positives, negatives);
    // The table counts every evaluated voxel of the voxel-level cases once.
    std::uint64_t lesion = 0;
    std::uint64_t other = 0;
    for (const CaseRecord & record : evaluation.m_Cases)
    {
      if (record.voxelLevel && (__builtin_add_overflow(lesion, record.lesionVoxels, &lesion) ||
                                __builtin_add_overflow(other, record.evaluatedVoxels - record.lesionVoxels, &other)))
      {
        throw InputError(where + ": case voxel counts overflow");
      }
    }
    if (positives != lesion || negatives != other)
    {
      throw InputError(where + ": the score table counts " + std::to_string(positives) + " lesion and " +
                       std::to_string(negatives) + " other voxels, the cases " + std::to_string(lesion) + " and " +
                       std::to_string(other));
    }
    try
    {
      evaluation.PushVoxelTable(ScoreTable<float>::FromSortedEntries(std::move(entries)));
    }
    catch (const InputError & e)
    {
      throw InputError(path + ": corrupt partial evaluation result: " + e.what());
    }
    return evaluation;
  }
  catch (const nlohmann::json::exception & e)
  {
    throw InputError(path + ": malformed partial evaluation header: " + ShortenForMessage(e.what(), 200));
  }
}

CohortEvaluation
CohortEvaluation::MergePartials(const std::vector<std::string> & paths)
{
  if (paths.empty())
  {
    throw InputError("merge: no partial evaluation results given");
  }
  std::map<int, std::string>      byShard;
  std::optional<CohortEvaluation> merged;
  int                             expectedShards = -1;
  std::uint64_t                   expectedCases = 0;
  for (const std::string & path : paths)
  {
    int           shard = 0;
    int           shards = 0;
    std::uint64_t cases = 0;
    auto          part = ReadPartial(path, &shard, &shards, &cases);
    if (expectedShards < 0)
    {
      expectedShards = shards;
      expectedCases = cases;
    }
    else if (shards != expectedShards || cases != expectedCases)
    {
      throw InputError("merge: " + path + " is shard " + std::to_string(shard) + "/" + std::to_string(shards) +
                       " of a " + std::to_string(cases) + "-case manifest, but " + byShard.begin()->second +
                       " belongs to a split of a " + std::to_string(expectedCases) + "-case manifest into " +
                       std::to_string(expectedShards) + " shards (not the same run)");
    }
    if (!byShard.emplace(shard, path).second)
    {
      throw InputError("merge: shard " + std::to_string(shard) + " given twice: " + byShard[shard] + " and " +
                       path);
    }
    if (merged)
    {
      merged->Merge(part);
    }
    else
    {
      merged = std::move(part);
    }
  }
  std::string missing;
  int         missingCount = 0;
  for (int shard = 0; shard < expectedShards; ++shard)
  {
    if (byShard.count(shard) == 0 && ++missingCount <= 10)
    {
      missing += (missing.empty() ? "" : ", ") + std::to_string(shard) + "/" + std::to_string(expectedShards);
    }
  }
  if (missingCount > 0)
  {
    if (missingCount > 10)
    {
      missing += " and " + std::to_string(missingCount - 10) + " more";
    }
    throw InputError("merge: missing shard(s) " + missing + "; every shard 0.." + std::to_string(expectedShards - 1) +
                     " must be given");
  }
  return std::move(*merged);
}

} // namespace nsa
