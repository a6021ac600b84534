#ifndef nsaRankMetrics_h
#define nsaRankMetrics_h

#include "nsaScoreTable.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace nsa
{

/** \file nsaRankMetrics.h
 * \brief Threshold-free metrics computed exactly from a ScoreTable.
 *
 * A sample is predicted positive at threshold t when its score >= t; the thresholds that
 * matter are the distinct scores, visited from the highest down, and tied scores move
 * together (one step of the curve), as in scikit-learn's `roc_curve` and
 * `precision_recall_curve`. Each function returns std::nullopt where the metric is undefined
 * (no positives, or no negatives for ROC-type metrics) instead of a made-up number.
 */

/** Area under the ROC curve (trapezoid over the ROC points of the distinct thresholds, tied
 * scores grouped): scikit-learn's `roc_auc_score`. Equals
 * sum over distinct scores s of N(s) * (P(> s) + P(s) / 2) / (P * N), evaluated with
 * 128-bit integers and one final division. Undefined when P = 0 or N = 0. */
template <typename TScore>
std::optional<double>
AreaUnderRocCurve(const ScoreTable<TScore> & table);

/** Average precision, sum over distinct thresholds n of (R_n - R_{n-1}) P_n (no
 * interpolation): scikit-learn's `average_precision_score`. Undefined when P = 0. */
template <typename TScore>
std::optional<double>
AveragePrecision(const ScoreTable<TScore> & table);

/** Normalised area under the per-region-overlap curve up to `fprLimit` (MVTec AD protocol,
 * Bergmann et al., IJCV 2021): PRO(t) is the mean over all ground-truth connected components
 * of the fraction of the component predicted positive, FPR(t) the fraction of negative voxels
 * predicted positive; the curve (0,0), (FPR_n, PRO_n)..., (1,1) is integrated with the
 * trapezoid rule up to FPR = fprLimit (interpolating linearly at the limit) and divided by
 * fprLimit. `components` is the number of ground-truth components the positive weights were
 * built from. Undefined when there are no components or no negatives. */
template <typename TScore>
std::optional<double>
AreaUnderProCurve(const ScoreTable<TScore> & table, std::uint64_t components, double fprLimit = 0.3);

/** Confusion counts of positives/negatives at one threshold (score >= threshold). */
struct ThresholdCounts
{
  std::uint64_t truePositives{ 0 };
  std::uint64_t falsePositives{ 0 };
  std::uint64_t falseNegatives{ 0 };
  std::uint64_t trueNegatives{ 0 };
};

/** Dice = 2 TP / (2 TP + FP + FN); when the prediction and the ground truth are both empty
 * the two agree perfectly and Dice = IoU = 1. */
double
DiceFromCounts(const ThresholdCounts & counts);
/** IoU (Jaccard) = TP / (TP + FP + FN), 1 when both are empty. */
double
IoUFromCounts(const ThresholdCounts & counts);

template <typename TScore>
ThresholdCounts
CountsAtThreshold(const ScoreTable<TScore> & table, double threshold);

/** The threshold among the distinct scores that maximises the pooled Dice of the table (the
 * highest such threshold when several tie), with its Dice and IoU. Undefined when P = 0. */
struct BestDice
{
  double threshold{ 0 };
  double dice{ 0 };
  double iou{ 0 };
};
template <typename TScore>
std::optional<BestDice>
MaximumDice(const ScoreTable<TScore> & table);

/** One point of a curve, with the threshold at which it is reached. */
struct CurvePoint
{
  double x{ 0 };
  double y{ 0 };
  double threshold{ 0 };
};

/** ROC points (x = FPR, y = TPR) from (0,0) to (1,1), one per distinct threshold, thinned to
 * about `maxPoints` by dropping points closer than 1 / maxPoints (in both coordinates) to the
 * last kept one; the first and last points are always kept. Empty when undefined. */
template <typename TScore>
std::vector<CurvePoint>
RocCurve(const ScoreTable<TScore> & table, std::size_t maxPoints = 1000);

/** Precision-recall points (x = recall, y = precision), highest threshold first, thinned
 * like RocCurve. Empty when P = 0. */
template <typename TScore>
std::vector<CurvePoint>
PrecisionRecallCurve(const ScoreTable<TScore> & table, std::size_t maxPoints = 1000);

/** PRO curve points (x = FPR, y = PRO) from (0,0) to (1,1), thinned like RocCurve. */
template <typename TScore>
std::vector<CurvePoint>
ProCurve(const ScoreTable<TScore> & table, std::uint64_t components, std::size_t maxPoints = 1000);

#define NSA_RANK_METRICS_EXTERN(T)                                                                              \
  extern template std::optional<double>     AreaUnderRocCurve<T>(const ScoreTable<T> &);                        \
  extern template std::optional<double>     AveragePrecision<T>(const ScoreTable<T> &);                         \
  extern template std::optional<double>     AreaUnderProCurve<T>(const ScoreTable<T> &, std::uint64_t, double); \
  extern template ThresholdCounts           CountsAtThreshold<T>(const ScoreTable<T> &, double);                \
  extern template std::optional<BestDice>   MaximumDice<T>(const ScoreTable<T> &);                              \
  extern template std::vector<CurvePoint>   RocCurve<T>(const ScoreTable<T> &, std::size_t);                    \
  extern template std::vector<CurvePoint>   PrecisionRecallCurve<T>(const ScoreTable<T> &, std::size_t);        \
  extern template std::vector<CurvePoint>   ProCurve<T>(const ScoreTable<T> &, std::uint64_t, std::size_t)
NSA_RANK_METRICS_EXTERN(float);
NSA_RANK_METRICS_EXTERN(double);
#undef NSA_RANK_METRICS_EXTERN

} // namespace nsa

#endif
