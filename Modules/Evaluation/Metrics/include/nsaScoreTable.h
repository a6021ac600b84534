#ifndef nsaScoreTable_h
#define nsaScoreTable_h

#include <cstdint>
#include <utility>
#include <vector>

namespace nsa
{

/** \class ProWeight
 * \brief An exact, order-independent sum of per-region overlap weights for AU-PRO.
 *
 * Every lesion voxel of a ground-truth connected component of `n` voxels carries the weight
 * floor((2^64 - 1) / n) in units of 1 / (2^64 - 1), so that the voxels of one component add up
 * to one component (up to n / 2^64, i.e. below 1e-10 for any component that fits in memory).
 * The sum is a 128-bit integer: adding in any order, across cases, threads and shards, gives
 * the same bits, which is what makes a merged sharded evaluation equal a single run.
 */
struct ProWeight
{
  std::uint64_t low{ 0 };
  std::uint64_t high{ 0 };

  /** Weight of one voxel of a component of `componentSize` voxels (> 0). */
  static std::uint64_t
  PerVoxel(std::uint64_t componentSize);

  /** Adds `count` voxels of weight `perVoxel` each. */
  void
  AddScaled(std::uint64_t perVoxel, std::uint64_t count);
  void
  Add(const ProWeight & other);
  /** The sum in components (1.0 = one whole component). */
  long double
  InComponents() const;
  bool
  operator==(const ProWeight & other) const
  {
    return low == other.low && high == other.high;
  }
  bool
  IsZero() const
  {
    return low == 0 && high == 0;
  }
};

/** \class ScoreTable
 * \brief Exact distribution of scores over positives and negatives: one entry per distinct
 * score value, with the number of positive and negative samples that have exactly that score
 * (and, for voxels, the AU-PRO weight of the positive ones).
 *
 * This is the sufficient statistic of every threshold-based metric (ROC, precision-recall,
 * PRO curve, Dice at any threshold): all thresholds that matter are the distinct scores, and
 * tied scores form one group as in scikit-learn. Tables of different cases, threads or
 * shards merge by adding counts of equal scores, exactly and in any order, so a cohort is
 * evaluated one map at a time without keeping the maps.
 *
 * Memory: one Entry (40 bytes for float scores) per distinct score value. A binary or
 * few-level map needs a handful of entries; a continuous float32 map needs up to one entry
 * per voxel with a distinct value, bounded by the number of float values in the score range
 * (about 1.07e9 in [0, 1]). Merging allocates the merged table while the two inputs exist.
 * See Documentation/Evaluation.md for measured sizes.
 *
 * Entries are kept in descending score order. -0 is stored as +0; NaN scores are refused.
 */
template <typename TScore>
class ScoreTable
{
public:
  struct Entry
  {
    TScore        score;
    std::uint64_t positives;
    std::uint64_t negatives;
    ProWeight     proWeight;
  };

  ScoreTable() = default;

  /** A table of labelled scores (case level): label true = positive. Throws
   * nsa::InputError when a score is NaN or the lengths differ. */
  static ScoreTable
  FromLabelledScores(const std::vector<TScore> & scores, const std::vector<bool> & labels);

  /** A table of voxels: negative scores, and positive scores with their per-voxel AU-PRO
   * weight (ProWeight::PerVoxel of the voxel's component, or 0). The vectors are consumed
   * (sorted in place). Throws nsa::InputError on NaN. */
  static ScoreTable
  FromSamples(std::vector<TScore> negatives, std::vector<std::pair<TScore, std::uint64_t>> weightedPositives);

  /** Builds a table from entries that are already in strictly descending score order
   * (reading a saved table); throws nsa::InputError otherwise. */
  static ScoreTable
  FromSortedEntries(std::vector<Entry> entries);

  /** Adds the counts of `other`: the result is the table of both sample sets. */
  void
  Merge(const ScoreTable & other);

  const std::vector<Entry> &
  Entries() const
  {
    return m_Entries;
  }
  std::uint64_t
  Positives() const
  {
    return m_Positives;
  }
  std::uint64_t
  Negatives() const
  {
    return m_Negatives;
  }
  /** Sum of all positive weights (in components: the number of components, up to rounding). */
  const ProWeight &
  TotalProWeight() const
  {
    return m_TotalProWeight;
  }
  bool
  Empty() const
  {
    return m_Entries.empty();
  }
  bool
  operator==(const ScoreTable & other) const;

private:
  void
  Recount();

  std::vector<Entry> m_Entries; // strictly descending scores
  std::uint64_t      m_Positives{ 0 };
  std::uint64_t      m_Negatives{ 0 };
  ProWeight          m_TotalProWeight;
};

extern template class ScoreTable<float>;
extern template class ScoreTable<double>;

} // namespace nsa

#endif
