#ifndef nsaPercentile_h
#define nsaPercentile_h

#include <vector>

namespace nsa
{

/** How a percentile p (0..100) of n values picks its value. The rank is r = p / 100 (n - 1)
 * on the values sorted in ascending order (rank 0 the minimum, n - 1 the maximum); the names
 * are those of NumPy's `numpy.percentile(..., method=...)`.
 *
 * - Linear (the default, NumPy's default): v[floor r] + (r - floor r) (v[floor r + 1] -
 *   v[floor r]), linear interpolation between the two closest ranks.
 * - Lower: v[floor r], the closest rank below.
 * - Nearest: v[round r], the closest rank, a half rounded away from zero (NumPy's 'nearest'
 *   rounds a half to even; they differ only when r is exactly k + 0.5).
 *
 * Each caller keeps the rule its results were produced with, so that no output moves:
 * intensity normalisation and case scores use Linear; the NSA filter's label intensity
 * scale, the logistic calibration and the report thumbnails' window use Lower; the
 * overlay window and the synthetic lesions of NSAInsertLesion use Nearest. */
enum class PercentileRule
{
  Linear,
  Lower,
  Nearest
};

/** The percentile `percent` (0..100) of `values` under `rule`.
 *
 * Reorders `values` (selection with std::nth_element, O(n); no full sort). Returns NaN if
 * `values` is empty. Throws nsa::ParameterError if `percent` is not in [0, 100]. The values
 * must not be NaN (the order is undefined then). */
double
Percentile(std::vector<float> & values, double percent, PercentileRule rule = PercentileRule::Linear);
double
Percentile(std::vector<double> & values, double percent, PercentileRule rule = PercentileRule::Linear);

/** Several percentiles of the same values, `percents` in ascending order: the same results as
 * one Percentile call each, but each selection searches only above the previous rank. */
std::vector<double>
Percentiles(std::vector<float> & values, const std::vector<double> & percents,
            PercentileRule rule = PercentileRule::Linear);
std::vector<double>
Percentiles(std::vector<double> & values, const std::vector<double> & percents,
            PercentileRule rule = PercentileRule::Linear);

} // namespace nsa

#endif
