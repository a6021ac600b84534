#include "nsaError.h"
#include "nsaPercentile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace
{

/** The definitions of nsa::PercentileRule applied to a fully sorted copy (double). */
double
SortedReference(std::vector<double> values, double percent, nsa::PercentileRule rule)
{
  std::sort(values.begin(), values.end());
  const double rank = percent / 100.0 * static_cast<double>(values.size() - 1);
  switch (rule)
  {
    case nsa::PercentileRule::Lower:
      return values[static_cast<std::size_t>(std::floor(rank))];
    case nsa::PercentileRule::Nearest:
      return values[static_cast<std::size_t>(std::llround(rank))];
    case nsa::PercentileRule::Linear:
    default:
    {
      const auto        below = static_cast<std::size_t>(std::floor(rank));
      const std::size_t above = std::min(values.size() - 1, below + 1);
      return values[below] + (rank - static_cast<double>(below)) * (values[above] - values[below]);
    }
  }
}

/** Values with ties and a spread of magnitudes, from a fixed linear congruential sequence. */
std::vector<double>
TestValues(std::size_t count)
{
  std::vector<double> values(count);
  std::uint64_t       state = 12345;
  for (double & value : values)
  {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    value = static_cast<double>((state >> 40) % 1000) / 8.0 - 20.0;
  }
  return values;
}

} // namespace

TEST(Percentile, MatchesNumPyOnASmallExample)
{
  // numpy.percentile([7, 1, 4, 2, 9, 3], p, method=...) with NumPy 1.24.
  const std::vector<double> percents{ 0.0, 25.0, 40.0, 99.0, 100.0 };
  const std::vector<double> linear{ 1.0, 2.25, 3.0, 8.9, 9.0 };
  const std::vector<double> lower{ 1.0, 2.0, 3.0, 7.0, 9.0 };
  const std::vector<double> nearest{ 1.0, 2.0, 3.0, 9.0, 9.0 };
  for (std::size_t i = 0; i < percents.size(); ++i)
  {
    std::vector<float> values{ 7.0f, 1.0f, 4.0f, 2.0f, 9.0f, 3.0f };
    EXPECT_NEAR(nsa::Percentile(values, percents[i]), linear[i], 1e-12) << percents[i];
    EXPECT_EQ(nsa::Percentile(values, percents[i], nsa::PercentileRule::Lower), lower[i]) << percents[i];
    EXPECT_EQ(nsa::Percentile(values, percents[i], nsa::PercentileRule::Nearest), nearest[i]) << percents[i];
  }
}

TEST(Percentile, NearestRoundsAHalfRankAwayFromZero)
{
  // Six values, p = 50: rank 2.5. NumPy's 'nearest' takes rank 2 (half to even), ours rank 3.
  std::vector<float> values{ 7.0f, 1.0f, 4.0f, 2.0f, 9.0f, 3.0f };
  EXPECT_EQ(nsa::Percentile(values, 50.0, nsa::PercentileRule::Nearest), 4.0);
}

TEST(Percentile, MatchesASortedReferenceForEveryRule)
{
  for (const std::size_t count : { std::size_t{ 1 }, std::size_t{ 2 }, std::size_t{ 7 }, std::size_t{ 1000 } })
  {
    const std::vector<double> reference = TestValues(count);
    for (const auto rule : { nsa::PercentileRule::Linear, nsa::PercentileRule::Lower, nsa::PercentileRule::Nearest })
    {
      for (const double percent : { 0.0, 1.0, 2.0, 33.3, 40.0, 50.0, 98.0, 99.0, 100.0 })
      {
        const double expected = SortedReference(reference, percent, rule);
        std::vector<double> values = reference;
        // Exact: every rule returns an input value, or the same double expression (Linear).
        EXPECT_EQ(nsa::Percentile(values, percent, rule), expected)
          << "n=" << count << " p=" << percent << " rule=" << static_cast<int>(rule);
        std::vector<float> floats(reference.begin(), reference.end());
        EXPECT_EQ(nsa::Percentile(floats, percent, rule), expected);
      }
    }
  }
}

TEST(Percentile, SeveralAtOnceEqualOneCallEach)
{
  const std::vector<double> reference = TestValues(513);
  const std::vector<double> percents{ 0.0, 1.0, 1.0, 40.0, 99.0, 100.0 };
  for (const auto rule : { nsa::PercentileRule::Linear, nsa::PercentileRule::Lower, nsa::PercentileRule::Nearest })
  {
    std::vector<double>       values = reference;
    const std::vector<double> together = nsa::Percentiles(values, percents, rule);
    ASSERT_EQ(together.size(), percents.size());
    for (std::size_t i = 0; i < percents.size(); ++i)
    {
      std::vector<double> single = reference;
      EXPECT_EQ(together[i], nsa::Percentile(single, percents[i], rule)) << percents[i];
    }
  }
}

TEST(Percentile, EmptyIsNaNAndAPercentOutsideTheRangeThrows)
{
  std::vector<float> empty;
  EXPECT_TRUE(std::isnan(nsa::Percentile(empty, 50.0)));
  std::vector<float> values{ 1.0f, 2.0f };
  EXPECT_THROW(nsa::Percentile(values, -0.5), nsa::ParameterError);
  EXPECT_THROW(nsa::Percentile(values, 100.5), nsa::ParameterError);
  EXPECT_THROW(nsa::Percentile(values, std::nan("")), nsa::ParameterError);
  EXPECT_THROW(nsa::Percentiles(values, { 60.0, 40.0 }), nsa::ParameterError);
}
