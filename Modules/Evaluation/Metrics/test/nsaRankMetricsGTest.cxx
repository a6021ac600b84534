#include "nsaRankMetrics.h"

#include "nsaError.h"
#include "nsaRandom.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <map>

namespace
{
// Metrics are computed with exact integer sums and one long-double division: results of
// hand-computed rationals agree to double rounding, a few ulp.
constexpr double kExact = 1e-15;

nsa::ScoreTable<double>
Table(const std::vector<double> & scores, const std::vector<bool> & labels)
{
  return nsa::ScoreTable<double>::FromLabelledScores(scores, labels);
}
} // namespace

TEST(RankMetrics, ScikitLearnDocumentationExample)
{
  // scikit-learn's roc_auc_score / average_precision_score documentation example:
  // 3 of 4 (positive, negative) pairs are ordered correctly; AP = 0.5 * 1 + 0.5 * 2/3.
  const auto table = Table({ 0.1, 0.4, 0.35, 0.8 }, { false, false, true, true });
  EXPECT_NEAR(*nsa::AreaUnderRocCurve(table), 0.75, kExact);
  EXPECT_NEAR(*nsa::AveragePrecision(table), 0.5 + 0.5 * 2.0 / 3.0, kExact);
}

TEST(RankMetrics, TiedScoresFormOneStep)
{
  // Scores 1 (pos), 0.5 (pos), 0.5 (neg), 0 (neg): pairs (1,0.5n)=1, (1,0)=1, (0.5p,0.5n)=1/2,
  // (0.5p,0)=1 -> AUROC 3.5/4. AP: threshold 1: P=1, R=1/2; threshold 0.5: P=2/3, R=1.
  const auto table = Table({ 1.0, 0.5, 0.5, 0.0 }, { true, true, false, false });
  ASSERT_EQ(table.Entries().size(), 3u);
  EXPECT_NEAR(*nsa::AreaUnderRocCurve(table), 0.875, kExact);
  EXPECT_NEAR(*nsa::AveragePrecision(table), 0.5 + 0.5 * 2.0 / 3.0, kExact);

  // All scores equal: the ROC is the diagonal, precision is the prevalence.
  const auto flat = Table({ 0.5, 0.5, 0.5, 0.5 }, { false, true, false, true });
  EXPECT_NEAR(*nsa::AreaUnderRocCurve(flat), 0.5, kExact);
  EXPECT_NEAR(*nsa::AveragePrecision(flat), 0.5, kExact);
}

TEST(RankMetrics, PerfectAndReversedRankings)
{
  const auto perfect = Table({ 0.9, 0.8, 0.2, 0.1 }, { true, true, false, false });
  EXPECT_EQ(*nsa::AreaUnderRocCurve(perfect), 1.0);
  EXPECT_EQ(*nsa::AveragePrecision(perfect), 1.0);
  const auto reversed = Table({ 0.9, 0.8, 0.2, 0.1 }, { false, false, true, true });
  EXPECT_EQ(*nsa::AreaUnderRocCurve(reversed), 0.0);
  // Positives found at ranks 3 and 4: AP = 0.5 * 1/3 + 0.5 * 2/4.
  EXPECT_NEAR(*nsa::AveragePrecision(reversed), 0.5 / 3.0 + 0.25, kExact);
}

TEST(RankMetrics, UndefinedMetricsAreEmpty)
{
  const auto onlyPositives = Table({ 0.3, 0.4 }, { true, true });
  EXPECT_FALSE(nsa::AreaUnderRocCurve(onlyPositives).has_value());
  EXPECT_EQ(*nsa::AveragePrecision(onlyPositives), 1.0);
  const auto onlyNegatives = Table({ 0.3, 0.4 }, { false, false });
  EXPECT_FALSE(nsa::AreaUnderRocCurve(onlyNegatives).has_value());
  EXPECT_FALSE(nsa::AveragePrecision(onlyNegatives).has_value());
  EXPECT_FALSE(nsa::MaximumDice(onlyNegatives).has_value());
  EXPECT_FALSE(nsa::AreaUnderProCurve(onlyNegatives, 0).has_value());
  EXPECT_TRUE(nsa::RocCurve(onlyNegatives).empty());
}

TEST(RankMetrics, BadInputThrows)
{
  EXPECT_THROW(Table({ 0.1, std::nan("") }, { true, false }), nsa::InputError);
  EXPECT_THROW(Table({ 0.1 }, { true, false }), nsa::InputError);
  EXPECT_THROW(nsa::AreaUnderProCurve(Table({ 0.1, 0.2 }, { true, false }), 1, 0.0), nsa::ParameterError);
  std::vector<nsa::ScoreTable<float>::Entry> unsorted{ { 0.1f, 1, 0, {} }, { 0.2f, 0, 1, {} } };
  EXPECT_THROW(nsa::ScoreTable<float>::FromSortedEntries(unsorted), nsa::InputError);
}

TEST(RankMetrics, NegativeZeroIsZero)
{
  const auto table = Table({ -0.0, 0.0 }, { true, false });
  ASSERT_EQ(table.Entries().size(), 1u);
  EXPECT_EQ(*nsa::AreaUnderRocCurve(table), 0.5);
}

TEST(RankMetrics, MergeEqualsTableOfAllSamplesInAnyOrder)
{
  nsa::RandomStream   random(11, 0, 0, nsa::RandomPurpose::Test);
  std::vector<float>  scores;
  std::vector<bool>   labels;
  for (int i = 0; i < 3000; ++i)
  {
    // Two decimals: many ties inside and across the parts.
    scores.push_back(static_cast<float>(std::round(random.Uniform() * 100.0) / 100.0));
    labels.push_back(random.Bernoulli(0.3));
  }
  const auto whole = nsa::ScoreTable<float>::FromLabelledScores(scores, labels);
  std::vector<nsa::ScoreTable<float>> parts;
  for (int part = 0; part < 3; ++part)
  {
    std::vector<float> s;
    std::vector<bool>  l;
    for (size_t i = part; i < scores.size(); i += 3)
    {
      s.push_back(scores[i]);
      l.push_back(labels[i]);
    }
    parts.push_back(nsa::ScoreTable<float>::FromLabelledScores(s, l));
  }
  nsa::ScoreTable<float> forward;
  for (const auto & part : parts)
  {
    forward.Merge(part);
  }
  nsa::ScoreTable<float> backward;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it)
  {
    backward.Merge(*it);
  }
  EXPECT_TRUE(forward == whole);
  EXPECT_TRUE(backward == whole);
  EXPECT_EQ(*nsa::AreaUnderRocCurve(forward), *nsa::AreaUnderRocCurve(whole));
  EXPECT_EQ(*nsa::AveragePrecision(backward), *nsa::AveragePrecision(whole));
  EXPECT_EQ(whole.Positives() + whole.Negatives(), scores.size());
}

TEST(RankMetrics, AreaUnderProInterpolatesAtTheLimit)
{
  // One component of 4 voxels scored 0.9, 0.9, 0.3, 0.3; negatives 0.95 (one) and 0.3 (five).
  // Curve: (0,0) (1/6,0) (1/6,1/2) (1,1). At FPR 0.3 the PRO is 1/2 + 1/2 (0.3 - 1/6) / (5/6)
  // = 0.58; area = (0.5 + 0.58) / 2 * (0.3 - 1/6) = 0.072; normalised by 0.3: 0.24.
  const std::uint64_t w = nsa::ProWeight::PerVoxel(4);
  std::vector<std::pair<float, std::uint64_t>> positives{ { 0.9f, w }, { 0.9f, w }, { 0.3f, w }, { 0.3f, w } };
  std::vector<float> negatives{ 0.95f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f };
  const auto         table = nsa::ScoreTable<float>::FromSamples(negatives, positives);
  // Tolerance: the component weights sum to 1 - 4/2^64, far below double resolution.
  EXPECT_NEAR(*nsa::AreaUnderProCurve(table, 1), 0.24, 1e-12);
  EXPECT_NEAR(*nsa::AreaUnderProCurve(table, 1, 1.0), (1.0 / 6.0 * 0 + 0.75 * 5.0 / 6.0), 1e-12);
  const auto curve = nsa::ProCurve(table, 1);
  ASSERT_EQ(curve.size(), 5u);
  // Curve points are single long-double divisions rounded to double: exact to 1 ulp.
  EXPECT_NEAR(curve[2].x, 1.0 / 6.0, 1e-15);
  EXPECT_NEAR(curve[2].y, 0.5, 1e-15);
}

TEST(RankMetrics, MaximumDiceAndCountsAtThreshold)
{
  // Positives 0.9, 0.6, 0.2; negatives 0.7, 0.1. Dice = 2TP / (2TP + FP + FN) at thresholds
  // 0.9: 2/4; 0.7: 2/5; 0.6: 4/6; 0.2: 6/7; 0.1: 6/8.
  const auto table = Table({ 0.9, 0.6, 0.2, 0.7, 0.1 }, { true, true, true, false, false });
  const auto best = nsa::MaximumDice(table);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->threshold, 0.2);
  EXPECT_NEAR(best->dice, 6.0 / 7.0, kExact);
  EXPECT_NEAR(best->iou, 3.0 / 4.0, kExact);
  const auto counts = nsa::CountsAtThreshold(table, 0.65);
  EXPECT_EQ(counts.truePositives, 1u);
  EXPECT_EQ(counts.falsePositives, 1u);
  EXPECT_EQ(counts.falseNegatives, 2u);
  EXPECT_EQ(counts.trueNegatives, 1u);
  EXPECT_NEAR(nsa::DiceFromCounts(counts), 2.0 / 5.0, kExact);
  EXPECT_EQ(nsa::DiceFromCounts(nsa::ThresholdCounts{}), 1.0);
}

TEST(RankMetrics, CurvesStartAndEndAtTheCorners)
{
  nsa::RandomStream   random(5, 0, 0, nsa::RandomPurpose::Test);
  std::vector<double> scores;
  std::vector<bool>   labels;
  for (int i = 0; i < 20000; ++i)
  {
    const bool label = random.Bernoulli(0.2);
    labels.push_back(label);
    scores.push_back(random.Normal(label ? 1.0 : 0.0, 1.0));
  }
  const auto table = Table(scores, labels);
  const auto roc = nsa::RocCurve(table, 200);
  ASSERT_GE(roc.size(), 2u);
  EXPECT_LE(roc.size(), 2u * 200u + 2u); // at least 1/200 per kept step in x or y, both <= 1
  EXPECT_EQ(roc.front().x, 0.0);
  EXPECT_EQ(roc.front().y, 0.0);
  EXPECT_EQ(roc.back().x, 1.0);
  EXPECT_EQ(roc.back().y, 1.0);
  const auto pr = nsa::PrecisionRecallCurve(table, 200);
  EXPECT_EQ(pr.back().x, 1.0);
  EXPECT_NEAR(pr.back().y, static_cast<double>(table.Positives()) / scores.size(), kExact);
}

TEST(RankMetrics, LargeFloatTablesMatchACountOfEveryValue)
{
  // Large float inputs take the radix-sort path: negative and positive values, both zeros,
  // infinities, subnormals and many ties must come out as the exact count of every value.
  nsa::RandomStream  random(13, 0, 0, nsa::RandomPurpose::Test);
  std::vector<float> negatives;
  std::map<float, std::uint64_t> expected;
  for (int i = 0; i < 60000; ++i)
  {
    float value = static_cast<float>(random.Normal(0.0, 100.0));
    switch (i % 7)
    {
      case 0:
        value = std::round(value); // ties
        break;
      case 1:
        value = (i % 2) ? 0.0f : -0.0f;
        break;
      case 2:
        value = std::ldexp(value, -140); // subnormal or zero
        break;
      case 3:
        value = (i % 3) ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
        break;
      default:
        break;
    }
    negatives.push_back(value);
    ++expected[value == 0.0f ? 0.0f : value];
  }
  const auto table = nsa::ScoreTable<float>::FromSamples(negatives, {});
  ASSERT_EQ(table.Entries().size(), expected.size());
  auto it = expected.rbegin();
  for (const auto & entry : table.Entries())
  {
    EXPECT_EQ(entry.score, it->first);
    EXPECT_EQ(entry.negatives, it->second);
    ++it;
  }
  EXPECT_EQ(table.Negatives(), negatives.size());
}
