// Agreement with the reference implementation Debian ships: python3-sklearn's roc_auc_score
// and average_precision_score, run at test time on random data (with and without ties).

#include "nsaRankMetrics.h"

#include "nsaRandom.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>

namespace
{
std::string
RunCommand(const std::string & command, int & status)
{
  std::string output;
  FILE *      pipe = popen(command.c_str(), "r");
  if (pipe == nullptr)
  {
    status = -1;
    return output;
  }
  char buffer[4096];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr)
  {
    output += buffer;
  }
  status = pclose(pipe);
  return output;
}

struct Reference
{
  double auroc{ 0 };
  double ap{ 0 };
};

/** Writes scores and labels (17 significant digits: the doubles round-trip) and asks
 * scikit-learn for both metrics. */
Reference
ScikitLearn(const std::vector<double> & scores, const std::vector<bool> & labels, const std::string & name)
{
  const std::string path = std::string(NSA_TEST_OUTPUT_DIR) + "/EvaluationSklearn_" + name + ".txt";
  {
    std::ofstream out(path);
    out << std::setprecision(17);
    for (size_t i = 0; i < scores.size(); ++i)
    {
      out << scores[i] << ' ' << (labels[i] ? 1 : 0) << '\n';
    }
  }
  const std::string script = "import numpy as np; from sklearn.metrics import roc_auc_score, average_precision_score; "
                             "d = np.loadtxt('" + path + "'); "
                             "print(repr(float(roc_auc_score(d[:,1], d[:,0]))), "
                             "repr(float(average_precision_score(d[:,1], d[:,0]))))";
  int               status = 0;
  const std::string output = RunCommand(std::string(NSA_PYTHON3) + " -c \"" + script + "\" 2>&1", status);
  EXPECT_EQ(status, 0) << "scikit-learn failed (install python3-sklearn: Utilities/setup.sh): " << output;
  Reference          reference;
  std::istringstream in(output);
  in >> reference.auroc >> reference.ap;
  EXPECT_FALSE(in.fail()) << "unexpected scikit-learn output: " << output;
  return reference;
}

// scikit-learn accumulates float64 cumulative sums and a trapezoid over them (relative
// rounding of order n * 1e-16 for n samples); ours is exact up to one rounding. 1e-9 is the
// agreement the issue asks for and is far above both roundings at these sizes.
constexpr double kAgreement = 1e-9;
} // namespace

TEST(ScikitLearnAgreement, ContinuousAndTiedScores)
{
  for (int trial = 0; trial < 4; ++trial)
  {
    nsa::RandomStream   random(2024, 0, trial, nsa::RandomPurpose::Test);
    const size_t        n = 500 + 2000 * trial;
    const double        prevalence = 0.05 + 0.2 * trial;
    std::vector<double> scores;
    std::vector<bool>   labels;
    for (size_t i = 0; i < n; ++i)
    {
      const bool label = random.Bernoulli(prevalence);
      double     score = random.Normal(label ? 0.8 : 0.0, 1.0);
      if (trial % 2 == 1)
      {
        score = std::round(score * 10.0) / 10.0; // heavy ties
      }
      scores.push_back(score);
      labels.push_back(label);
    }
    const Reference reference = ScikitLearn(scores, labels, "trial" + std::to_string(trial));
    const auto      table = nsa::ScoreTable<double>::FromLabelledScores(scores, labels);
    EXPECT_NEAR(*nsa::AreaUnderRocCurve(table), reference.auroc, kAgreement) << "trial " << trial;
    EXPECT_NEAR(*nsa::AveragePrecision(table), reference.ap, kAgreement) << "trial " << trial;
  }
}

TEST(ScikitLearnAgreement, FloatVoxelTablesMergedFromParts)
{
  // Float scores (as voxel maps hold them), accumulated part by part like cases of a cohort.
  nsa::RandomStream   random(7, 0, 0, nsa::RandomPurpose::Test);
  std::vector<double> scores;
  std::vector<bool>   labels;
  nsa::ScoreTable<float> merged;
  for (int part = 0; part < 5; ++part)
  {
    std::vector<float> partScores;
    std::vector<bool>  partLabels;
    for (int i = 0; i < 4000; ++i)
    {
      const bool  label = random.Bernoulli(0.1);
      const float score = static_cast<float>(1.0 / (1.0 + std::exp(-random.Normal(label ? 1.5 : -1.0, 1.2))));
      // Every third part is quantised to 8 bits, as a PNG map would be.
      const float stored = part % 3 == 0 ? std::round(score * 255.0f) / 255.0f : score;
      partScores.push_back(stored);
      partLabels.push_back(label);
      scores.push_back(static_cast<double>(stored));
      labels.push_back(label);
    }
    merged.Merge(nsa::ScoreTable<float>::FromLabelledScores(partScores, partLabels));
  }
  const Reference reference = ScikitLearn(scores, labels, "float");
  EXPECT_NEAR(*nsa::AreaUnderRocCurve(merged), reference.auroc, kAgreement);
  EXPECT_NEAR(*nsa::AveragePrecision(merged), reference.ap, kAgreement);
}
