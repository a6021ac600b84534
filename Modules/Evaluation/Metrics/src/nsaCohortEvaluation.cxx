#include "nsaCohortEvaluation.h"

#include "nsaAtomicOutput.h"
#include "nsaError.h"
#include "nsaPreset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
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

CaseRecord
CaseFromJson(const nlohmann::json & json)
{
  CaseRecord record;
  record.index = json.at("index").get<std::size_t>();
  record.caseId = json.at("case_id").get<std::string>();
  record.image = json.at("image").get<std::string>();
  record.mask = json.at("mask").get<std::string>();
  record.map = json.at("map").get<std::string>();
  record.score = OptionalFrom<double>(json.at("score"));
  record.scoreSource = json.at("score_source").get<std::string>();
  record.label = OptionalFrom<bool>(json.at("label"));
  record.voxelLevel = json.at("voxel_level").get<bool>();
  record.evaluatedVoxels = json.at("evaluated_voxels").get<std::uint64_t>();
  record.lesionVoxels = json.at("lesion_voxels").get<std::uint64_t>();
  record.components = json.at("components").get<std::uint64_t>();
  record.counts.truePositives = json.at("true_positives").get<std::uint64_t>();
  record.counts.falsePositives = json.at("false_positives").get<std::uint64_t>();
  record.counts.falseNegatives = json.at("false_negatives").get<std::uint64_t>();
  record.counts.trueNegatives = json.at("true_negatives").get<std::uint64_t>();
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
CohortEvaluation::WritePartial(const std::string & path, int shard, int shards) const
{
  nlohmann::json header;
  header["format"] = "nsa-evaluation-partial";
  header["software_version"] = Version();
  header["shard"] = shard;
  header["shards"] = shards;
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
CohortEvaluation::ReadPartial(const std::string & path, int * shard, int * shards)
{
  std::ifstream in(path, std::ios::binary);
  if (!in)
  {
    throw InputError(path + ": cannot open the partial evaluation result");
  }
  std::string magic(std::strlen(kPartialMagic), '\0');
  in.read(&magic[0], static_cast<std::streamsize>(magic.size()));
  if (!in || magic != kPartialMagic)
  {
    throw InputError(path + ": not a partial evaluation result of NSAEvaluate (expected the line " +
                     "'NSA-EVALUATION-PARTIAL 1')");
  }
  const auto  length = ReadValue<std::uint64_t>(in, path);
  std::string text(length, '\0');
  in.read(&text[0], static_cast<std::streamsize>(length));
  if (!in)
  {
    throw InputError(path + ": partial evaluation result is truncated");
  }
  nlohmann::json header;
  try
  {
    header = nlohmann::json::parse(text);
    CohortEvaluation evaluation(SettingsFromJson(header.at("settings")));
    for (const auto & record : header.at("cases"))
    {
      evaluation.m_Cases.push_back(CaseFromJson(record));
    }
    std::sort(evaluation.m_Cases.begin(), evaluation.m_Cases.end(),
              [](const CaseRecord & a, const CaseRecord & b) { return a.index < b.index; });
    if (shard != nullptr)
    {
      *shard = header.at("shard").get<int>();
    }
    if (shards != nullptr)
    {
      *shards = header.at("shards").get<int>();
    }
    const auto                                 count = ReadValue<std::uint64_t>(in, path);
    std::vector<ScoreTable<float>::Entry> entries;
    entries.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i)
    {
      ScoreTable<float>::Entry entry;
      entry.score = ReadValue<float>(in, path);
      entry.positives = ReadValue<std::uint64_t>(in, path);
      entry.negatives = ReadValue<std::uint64_t>(in, path);
      entry.proWeight.low = ReadValue<std::uint64_t>(in, path);
      entry.proWeight.high = ReadValue<std::uint64_t>(in, path);
      entries.push_back(entry);
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
    throw InputError(path + ": malformed partial evaluation header: " + e.what());
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
  for (const std::string & path : paths)
  {
    int  shard = 0;
    int  shards = 0;
    auto part = ReadPartial(path, &shard, &shards);
    if (expectedShards < 0)
    {
      expectedShards = shards;
    }
    else if (shards != expectedShards)
    {
      throw InputError("merge: " + path + " is shard " + std::to_string(shard) + "/" + std::to_string(shards) +
                       " but " + byShard.begin()->second + " belongs to a split into " +
                       std::to_string(expectedShards) + " shards");
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
  for (int shard = 0; shard < expectedShards; ++shard)
  {
    if (byShard.count(shard) == 0)
    {
      missing += (missing.empty() ? "" : ", ") + std::to_string(shard) + "/" + std::to_string(expectedShards);
    }
  }
  if (!missing.empty())
  {
    throw InputError("merge: missing shard(s) " + missing + "; every shard 0.." + std::to_string(expectedShards - 1) +
                     " must be given");
  }
  return std::move(*merged);
}

} // namespace nsa
