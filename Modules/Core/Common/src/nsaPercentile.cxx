#include "nsaPercentile.h"

#include "nsaError.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

namespace nsa
{
namespace
{

template <typename T>
std::vector<double>
SelectPercentiles(std::vector<T> & values, const std::vector<double> & percents, PercentileRule rule)
{
  for (std::size_t i = 0; i < percents.size(); ++i)
  {
    if (!(percents[i] >= 0.0 && percents[i] <= 100.0))
    {
      throw ParameterError("percentile " + std::to_string(percents[i]) + ": expected a value in [0, 100]");
    }
    if (i > 0 && percents[i] < percents[i - 1])
    {
      throw ParameterError("percentiles: expected ascending percents");
    }
  }
  std::vector<double> result;
  result.reserve(percents.size());
  const std::size_t n = values.size();
  if (n == 0)
  {
    result.assign(percents.size(), std::numeric_limits<double>::quiet_NaN());
    return result;
  }
  // Ranks already selected: values[0, searched) are all <= values[searched - 1], and
  // values[searched, n) are all >= it, so a higher rank is selected in the upper part only.
  std::size_t searched = 0;
  const auto  select = [&values, &searched, n](std::size_t rank) {
    if (rank >= searched)
    {
      std::nth_element(values.begin() + static_cast<std::ptrdiff_t>(searched),
                       values.begin() + static_cast<std::ptrdiff_t>(rank),
                       values.end());
      searched = rank + 1;
    }
    return static_cast<double>(values[rank]);
  };
  for (const double percent : percents)
  {
    const double rank = percent / 100.0 * static_cast<double>(n - 1);
    switch (rule)
    {
      case PercentileRule::Lower:
        result.push_back(select(static_cast<std::size_t>(std::floor(rank))));
        break;
      case PercentileRule::Nearest:
        result.push_back(select(static_cast<std::size_t>(std::llround(rank))));
        break;
      case PercentileRule::Linear:
      default:
      {
        const auto   below = static_cast<std::size_t>(std::floor(rank));
        const double fraction = rank - static_cast<double>(below);
        const double low = select(below);
        if (fraction == 0.0 || below + 1 >= n)
        {
          result.push_back(low);
          break;
        }
        // The next order statistic is the minimum of the part above rank `below`.
        const double high = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(below) + 1, values.end());
        result.push_back(low + fraction * (high - low));
        break;
      }
    }
  }
  return result;
}

} // namespace

double
Percentile(std::vector<float> & values, double percent, PercentileRule rule)
{
  return SelectPercentiles(values, { percent }, rule)[0];
}

double
Percentile(std::vector<double> & values, double percent, PercentileRule rule)
{
  return SelectPercentiles(values, { percent }, rule)[0];
}

std::vector<double>
Percentiles(std::vector<float> & values, const std::vector<double> & percents, PercentileRule rule)
{
  return SelectPercentiles(values, percents, rule);
}

std::vector<double>
Percentiles(std::vector<double> & values, const std::vector<double> & percents, PercentileRule rule)
{
  return SelectPercentiles(values, percents, rule);
}

} // namespace nsa
