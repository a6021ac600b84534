#ifndef nsaCohortEvaluation_h
#define nsaCohortEvaluation_h

#include "nsaCaseEvaluation.h"
#include "nsaRankMetrics.h"
#include "nsaScoreTable.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nsa
{

/** \brief Settings that must be equal in every part of one cohort evaluation. */
struct EvaluationSettings
{
  VoxelEvaluationOptions voxel;
  /** AU-PRO integration limit (default 0.3, the MVTec AD protocol). */
  double fprLimit = 0.3;
  /** Description of the voxel region (a mask path, "image nonzero", or empty = every voxel). */
  std::string region;

  bool
  operator==(const EvaluationSettings & other) const;
};

/** \brief One case of the cohort: its inputs and what it contributed. */
struct CaseRecord
{
  std::size_t           index{ 0 };   ///< position in the manifest: orders the cases in every run
  std::string           caseId;
  std::string           image;        ///< image path (manifest), for the report's thumbnails
  std::string           mask;         ///< ground-truth path, empty when none
  std::string           map;          ///< score-map path, empty when none
  std::optional<double> score;        ///< case score
  std::string           scoreSource;  ///< "file" (<case>.txt) or "map mean"
  std::optional<bool>   label;        ///< true = anomalous; from the manifest, else from the mask
  bool                  voxelLevel{ false }; ///< contributed to the voxel-level metrics
  std::uint64_t         evaluatedVoxels{ 0 };
  std::uint64_t         lesionVoxels{ 0 };
  std::uint64_t         components{ 0 };
  ThresholdCounts       counts;       ///< at the settings' threshold
  double                maxScore{ 0 };
  long                  peakSlice{ 0 };
  long                  lesionSlice{ -1 };

  /** Dice and IoU at the threshold; defined for voxel-level cases. */
  std::optional<double>
  Dice() const;
  std::optional<double>
  IoU() const;
};

/** \brief The cohort's numbers. Undefined metrics are empty (written as null). */
struct CohortMetrics
{
  std::size_t           cases{ 0 };
  std::size_t           scoredCases{ 0 };
  std::size_t           anomalousCases{ 0 };
  std::size_t           normalCases{ 0 };
  std::size_t           voxelCases{ 0 };
  std::uint64_t         voxels{ 0 };
  std::uint64_t         lesionVoxels{ 0 };
  std::uint64_t         components{ 0 };
  std::size_t           distinctVoxelScores{ 0 };
  std::optional<double> caseAuroc;
  std::optional<double> caseAveragePrecision;
  std::optional<double> voxelAuroc;
  std::optional<double> voxelAveragePrecision;
  std::optional<double> auPro;
  ThresholdCounts       pooledCounts;       ///< all voxel-level voxels at the threshold
  std::optional<double> pooledDice;
  std::optional<double> pooledIoU;
  std::optional<double> meanDice;           ///< over voxel-level cases with lesion voxels
  std::optional<double> meanIoU;
  std::optional<BestDice> bestDice;         ///< threshold maximising the pooled Dice
  std::vector<CurvePoint> caseRoc, casePrecisionRecall, voxelRoc, voxelPrecisionRecall, pro;
};

/** \brief Bounds on partial evaluation results (NSAEvaluate --shard / --merge). */
struct PartialLimits
{
  /** Shards one evaluation may be split into. */
  static constexpr std::uint64_t MaxShards = 100000;
  /** Manifest rows of one evaluation. */
  static constexpr std::uint64_t MaxCases = 100000000;
};

/** \class CohortEvaluation
 * \brief Accumulates a cohort case by case and computes its metrics.
 *
 * Holds one CaseRecord per case and the merged voxel ScoreTable; never a score map. Parts of
 * a cohort (worker threads, cluster shards) are evaluated separately and merged: the voxel
 * table merges exactly (integer counts per distinct score), cases are kept in manifest order,
 * so a merged evaluation computes bit-for-bit the numbers of a single run.
 *
 * Partial results (WritePartial / ReadPartial) are one binary file: the line
 * `NSA-EVALUATION-PARTIAL 1\n`, a little-endian uint64 byte count and that many bytes of JSON
 * (software version, shard, settings, case records), a uint64 entry count, then the table's
 * entries as packed little-endian records (float score, uint64 positives, uint64 negatives,
 * uint64 AU-PRO weight low, uint64 high; 36 bytes each). Documentation/Evaluation.md.
 */
class CohortEvaluation
{
public:
  explicit CohortEvaluation(EvaluationSettings settings = EvaluationSettings());

  const EvaluationSettings &
  Settings() const
  {
    return m_Settings;
  }

  /** Adds a case; `voxels` is its voxel result when record.voxelLevel, else nullptr.
   * Throws nsa::InputError when the case index is already present. */
  void
  AddCase(CaseRecord record, const CaseVoxelResult * voxels);

  /** Adds another part of the same cohort. Throws nsa::InputError when the settings differ
   * or a case appears in both. */
  void
  Merge(const CohortEvaluation & other);

  /** Cases in manifest order. */
  const std::vector<CaseRecord> &
  Cases() const
  {
    return m_Cases;
  }
  /** The cohort's voxel score table (merges the pending parts; linear in its size). */
  ScoreTable<float>
  VoxelTable() const;

  /** All metrics; curves thinned to about `curvePoints` points. */
  CohortMetrics
  Compute(std::size_t curvePoints = 1000) const;

  /** Writes the partial result atomically; `shard`/`shards` and the manifest's row count
   * are recorded for the merge. */
  void
  WritePartial(const std::string & path, int shard, int shards, std::size_t manifestCases) const;

  /** Reads a partial result; throws nsa::InputError naming the file when it is not one, is
   * truncated, or is inconsistent: lengths beyond the file's size, shard numbers outside
   * 1 <= shards <= PartialLimits::MaxShards and 0 <= shard < shards, cases that are not
   * exactly the manifest rows of this shard, negative or overflowing counts, a score table
   * whose counts differ from the cases'. Nothing is allocated before its size is checked
   * against the file's. */
  static CohortEvaluation
  ReadPartial(const std::string & path,
              int *               shard = nullptr,
              int *               shards = nullptr,
              std::uint64_t *     manifestCases = nullptr);

  /** Reads the partial results of shards 0..n-1 of one run (same n, manifest size and
   * settings) and merges them; throws nsa::InputError naming missing, repeated or
   * inconsistent shards. */
  static CohortEvaluation
  MergePartials(const std::vector<std::string> & paths);

private:
  EvaluationSettings      m_Settings;
  std::vector<CaseRecord> m_Cases;
  /** Adds a table to the levels, binary-counter fashion: level i holds the merge of about
   * 2^i case tables or is empty, so that n cases cost O(T log n) entry copies for a final
   * table of T entries instead of O(T n) when every case is merged into one growing table. */
  void
  PushVoxelTable(ScoreTable<float> table);

  std::vector<ScoreTable<float>> m_VoxelLevels;
};

} // namespace nsa

#endif
