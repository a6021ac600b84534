#include "nsaRankMetrics.h"

#include "nsaError.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace nsa
{

namespace
{
using Wide = unsigned __int128;

long double
WideToLongDouble(Wide value)
{
  const auto high = static_cast<std::uint64_t>(value >> 64);
  const auto low = static_cast<std::uint64_t>(value);
  return static_cast<long double>(high) * 18446744073709551616.0L + static_cast<long double>(low);
}

/** Keeps the first and last points and every point at least `step` away (in x or y) from the
 * last kept one. */
std::vector<CurvePoint>
Thin(const std::vector<CurvePoint> & points, std::size_t maxPoints)
{
  if (maxPoints < 2 || points.size() <= maxPoints)
  {
    return points;
  }
  const double            step = 1.0 / static_cast<double>(maxPoints);
  std::vector<CurvePoint> kept;
  kept.push_back(points.front());
  for (size_t i = 1; i + 1 < points.size(); ++i)
  {
    if (std::abs(points[i].x - kept.back().x) >= step || std::abs(points[i].y - kept.back().y) >= step)
    {
      kept.push_back(points[i]);
    }
  }
  kept.push_back(points.back());
  return kept;
}

/** (FPR, PRO) points of the PRO curve, (0,0) first and (1,1) last. */
template <typename TScore>
std::vector<CurvePoint>
ProPoints(const ScoreTable<TScore> & table, std::uint64_t components)
{
  std::vector<CurvePoint> points;
  points.reserve(table.Entries().size() + 2);
  const long double negatives = static_cast<long double>(table.Negatives());
  const long double count = static_cast<long double>(components);
  points.push_back({ 0.0, 0.0, std::numeric_limits<double>::infinity() });
  std::uint64_t falsePositives = 0;
  ProWeight     overlap;
  for (const auto & entry : table.Entries())
  {
    falsePositives += entry.negatives;
    overlap.Add(entry.proWeight);
    const long double pro = std::min(1.0L, overlap.InComponents() / count);
    points.push_back({ static_cast<double>(falsePositives / negatives), static_cast<double>(pro),
                       static_cast<double>(entry.score) });
  }
  points.push_back({ 1.0, 1.0, -std::numeric_limits<double>::infinity() });
  return points;
}
} // namespace

template <typename TScore>
std::optional<double>
AreaUnderRocCurve(const ScoreTable<TScore> & table)
{
  const std::uint64_t positives = table.Positives();
  const std::uint64_t negatives = table.Negatives();
  if (positives == 0 || negatives == 0)
  {
    return std::nullopt;
  }
  // Trapezoid between consecutive ROC points: each negative at score s contributes the
  // positives strictly above s plus half of those tied with it. Twice that is an integer.
  Wide          twiceArea = 0;
  std::uint64_t positivesAbove = 0;
  for (const auto & entry : table.Entries())
  {
    twiceArea += static_cast<Wide>(entry.negatives) * (static_cast<Wide>(2) * positivesAbove + entry.positives);
    positivesAbove += entry.positives;
  }
  const long double denominator = 2.0L * static_cast<long double>(positives) * static_cast<long double>(negatives);
  return static_cast<double>(WideToLongDouble(twiceArea) / denominator);
}

template <typename TScore>
std::optional<double>
AveragePrecision(const ScoreTable<TScore> & table)
{
  const std::uint64_t positives = table.Positives();
  if (positives == 0)
  {
    return std::nullopt;
  }
  long double   sum = 0;
  std::uint64_t truePositives = 0;
  std::uint64_t predicted = 0;
  for (const auto & entry : table.Entries())
  {
    truePositives += entry.positives;
    predicted += entry.positives + entry.negatives;
    if (entry.positives > 0)
    {
      // (R_n - R_{n-1}) P_n with R_n - R_{n-1} = positives(s) / P.
      sum += static_cast<long double>(entry.positives) * static_cast<long double>(truePositives) /
             static_cast<long double>(predicted);
    }
  }
  return static_cast<double>(sum / static_cast<long double>(positives));
}

template <typename TScore>
std::optional<double>
AreaUnderProCurve(const ScoreTable<TScore> & table, std::uint64_t components, double fprLimit)
{
  if (!(fprLimit > 0.0 && fprLimit <= 1.0))
  {
    std::ostringstream message;
    message << "AU-PRO: the false-positive-rate limit must be in (0, 1], got " << fprLimit;
    throw ParameterError(message.str());
  }
  if (components == 0 || table.Negatives() == 0)
  {
    return std::nullopt;
  }
  const std::vector<CurvePoint> points = ProPoints(table, components);
  long double                   area = 0;
  for (size_t i = 1; i < points.size(); ++i)
  {
    const CurvePoint & a = points[i - 1];
    const CurvePoint & b = points[i];
    if (b.x <= fprLimit)
    {
      area += 0.5L * (static_cast<long double>(a.y) + b.y) * (static_cast<long double>(b.x) - a.x);
      continue;
    }
    if (a.x < fprLimit)
    {
      // The segment crosses the limit: interpolate PRO linearly at FPR = fprLimit.
      const long double t = (static_cast<long double>(fprLimit) - a.x) / (static_cast<long double>(b.x) - a.x);
      const long double yLimit = a.y + t * (static_cast<long double>(b.y) - a.y);
      area += 0.5L * (a.y + yLimit) * (static_cast<long double>(fprLimit) - a.x);
    }
    break;
  }
  return static_cast<double>(area / fprLimit);
}

double
DiceFromCounts(const ThresholdCounts & counts)
{
  const long double denominator =
    2.0L * counts.truePositives + static_cast<long double>(counts.falsePositives) + counts.falseNegatives;
  return denominator == 0 ? 1.0 : static_cast<double>(2.0L * counts.truePositives / denominator);
}

double
IoUFromCounts(const ThresholdCounts & counts)
{
  const long double denominator =
    static_cast<long double>(counts.truePositives) + counts.falsePositives + counts.falseNegatives;
  return denominator == 0 ? 1.0 : static_cast<double>(counts.truePositives / denominator);
}

template <typename TScore>
ThresholdCounts
CountsAtThreshold(const ScoreTable<TScore> & table, double threshold)
{
  ThresholdCounts counts;
  for (const auto & entry : table.Entries())
  {
    if (static_cast<double>(entry.score) < threshold)
    {
      break;
    }
    counts.truePositives += entry.positives;
    counts.falsePositives += entry.negatives;
  }
  counts.falseNegatives = table.Positives() - counts.truePositives;
  counts.trueNegatives = table.Negatives() - counts.falsePositives;
  return counts;
}

template <typename TScore>
std::optional<BestDice>
MaximumDice(const ScoreTable<TScore> & table)
{
  if (table.Positives() == 0)
  {
    return std::nullopt;
  }
  ThresholdCounts counts;
  counts.falseNegatives = table.Positives();
  std::optional<BestDice> best;
  for (const auto & entry : table.Entries())
  {
    counts.truePositives += entry.positives;
    counts.falsePositives += entry.negatives;
    counts.falseNegatives -= entry.positives;
    const double dice = DiceFromCounts(counts);
    if (!best || dice > best->dice)
    {
      best = BestDice{ static_cast<double>(entry.score), dice, IoUFromCounts(counts) };
    }
  }
  return best;
}

template <typename TScore>
std::vector<CurvePoint>
RocCurve(const ScoreTable<TScore> & table, std::size_t maxPoints)
{
  if (table.Positives() == 0 || table.Negatives() == 0)
  {
    return {};
  }
  std::vector<CurvePoint> points;
  points.reserve(table.Entries().size() + 1);
  points.push_back({ 0.0, 0.0, std::numeric_limits<double>::infinity() });
  const long double positives = static_cast<long double>(table.Positives());
  const long double negatives = static_cast<long double>(table.Negatives());
  std::uint64_t     truePositives = 0;
  std::uint64_t     falsePositives = 0;
  for (const auto & entry : table.Entries())
  {
    truePositives += entry.positives;
    falsePositives += entry.negatives;
    points.push_back({ static_cast<double>(falsePositives / negatives), static_cast<double>(truePositives / positives),
                       static_cast<double>(entry.score) });
  }
  return Thin(points, maxPoints);
}

template <typename TScore>
std::vector<CurvePoint>
PrecisionRecallCurve(const ScoreTable<TScore> & table, std::size_t maxPoints)
{
  if (table.Positives() == 0)
  {
    return {};
  }
  std::vector<CurvePoint> points;
  points.reserve(table.Entries().size());
  const long double positives = static_cast<long double>(table.Positives());
  std::uint64_t     truePositives = 0;
  std::uint64_t     predicted = 0;
  for (const auto & entry : table.Entries())
  {
    truePositives += entry.positives;
    predicted += entry.positives + entry.negatives;
    points.push_back({ static_cast<double>(truePositives / positives),
                       static_cast<double>(static_cast<long double>(truePositives) / predicted),
                       static_cast<double>(entry.score) });
  }
  return Thin(points, maxPoints);
}

template <typename TScore>
std::vector<CurvePoint>
ProCurve(const ScoreTable<TScore> & table, std::uint64_t components, std::size_t maxPoints)
{
  if (components == 0 || table.Negatives() == 0)
  {
    return {};
  }
  return Thin(ProPoints(table, components), maxPoints);
}

#define NSA_RANK_METRICS_INSTANTIATE(T)                                                                  \
  template std::optional<double>   AreaUnderRocCurve<T>(const ScoreTable<T> &);                          \
  template std::optional<double>   AveragePrecision<T>(const ScoreTable<T> &);                           \
  template std::optional<double>   AreaUnderProCurve<T>(const ScoreTable<T> &, std::uint64_t, double);   \
  template ThresholdCounts         CountsAtThreshold<T>(const ScoreTable<T> &, double);                  \
  template std::optional<BestDice> MaximumDice<T>(const ScoreTable<T> &);                                \
  template std::vector<CurvePoint> RocCurve<T>(const ScoreTable<T> &, std::size_t);                      \
  template std::vector<CurvePoint> PrecisionRecallCurve<T>(const ScoreTable<T> &, std::size_t);          \
  template std::vector<CurvePoint> ProCurve<T>(const ScoreTable<T> &, std::uint64_t, std::size_t)
NSA_RANK_METRICS_INSTANTIATE(float);
NSA_RANK_METRICS_INSTANTIATE(double);

} // namespace nsa
