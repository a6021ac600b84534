// Python bindings of the Evaluation module: case-level and voxel-level metrics on NumPy arrays.
#include "nsaPyArray.h"
#include "nsaPyModule.h"

#include "nsaCaseEvaluation.h"
#include "nsaRankMetrics.h"
#include "nsaScoreTable.h"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace nsa::python
{

namespace
{

ScoreTable<double>
CaseTable(const CArray<double> & scores, const CArray<std::uint8_t> & labels)
{
  if (scores.ndim() != 1 || labels.ndim() != 1 || scores.size() != labels.size())
  {
    throw InputError("scores and labels: expected two 1D arrays of the same length");
  }
  std::vector<double> values(scores.data(), scores.data() + scores.size());
  std::vector<bool>   positive(labels.size());
  for (py::ssize_t i = 0; i < labels.size(); ++i)
  {
    positive[i] = labels.data()[i] != 0;
  }
  return ScoreTable<double>::FromLabelledScores(values, positive);
}

py::object
Optional(const std::optional<double> & value)
{
  return value ? py::object(py::float_(*value)) : py::object(py::none());
}

template <unsigned int D>
CaseVoxelResult
EvaluateOne(const CArray<float> &                           map,
            const std::optional<CArray<std::uint8_t>> &     truth,
            const std::optional<CArray<std::uint8_t>> &     region,
            const VoxelEvaluationOptions &                  options,
            const std::string &                             name)
{
  itk::Vector<double, D> spacing;
  spacing.Fill(1.0);
  const auto mapImage = WrapArray<float, D>(map, spacing, "score map");
  for (const auto * other : { &truth, &region })
  {
    if (*other)
    {
      for (unsigned int d = 0; d < D; ++d)
      {
        if ((*other)->ndim() != map.ndim() || (*other)->shape(d) != map.shape(d))
        {
          throw InputError(name + ": ground truth and region must have the score map's shape");
        }
      }
    }
  }
  typename itk::Image<std::uint8_t, D>::Pointer truthImage, regionImage;
  if (truth)
  {
    truthImage = WrapArray<std::uint8_t, D>(*truth, spacing, "ground truth");
  }
  if (region)
  {
    regionImage = WrapArray<std::uint8_t, D>(*region, spacing, "region");
  }
  return EvaluateCaseVoxels<D>(mapImage, truthImage, regionImage, options, name);
}

} // namespace

void
RegisterEvaluation(py::module_ & module)
{
  module.def(
    "roc_auc",
    [](const CArray<double> & scores, const CArray<std::uint8_t> & labels) {
      return Optional(AreaUnderRocCurve(CaseTable(scores, labels)));
    },
    py::arg("scores"),
    py::arg("labels"),
    "Area under the ROC curve of scores against binary labels (ties handled exactly as "
    "scikit-learn's roc_auc_score); None when only one class is present.");
  module.def(
    "average_precision",
    [](const CArray<double> & scores, const CArray<std::uint8_t> & labels) {
      return Optional(AveragePrecision(CaseTable(scores, labels)));
    },
    py::arg("scores"),
    py::arg("labels"),
    "Average precision (scikit-learn's average_precision_score definition); None without positives.");

  module.def(
    "evaluate_maps",
    [](const std::vector<CArray<float>> &                           maps,
       const std::vector<std::optional<CArray<std::uint8_t>>> &     truths,
       const std::optional<std::vector<std::optional<CArray<std::uint8_t>>>> & regions,
       double                                                       threshold,
       double                                                       fprLimit,
       bool                                                         fullyConnected) {
      if (maps.size() != truths.size() || (regions && regions->size() != maps.size()))
      {
        throw InputError("evaluate_maps: one ground truth (or None) and one region (or None) per map");
      }
      if (maps.empty())
      {
        throw InputError("evaluate_maps: no maps");
      }
      VoxelEvaluationOptions options;
      options.threshold = threshold;
      options.fullyConnected = fullyConnected;
      ScoreTable<float> cohort;
      std::uint64_t     components = 0;
      ThresholdCounts   counts;
      py::list          caseScores;
      {
        py::gil_scoped_release release;
        for (std::size_t i = 0; i < maps.size(); ++i)
        {
          const std::string name = "case " + std::to_string(i);
          const auto &      region = regions ? (*regions)[i] : std::optional<CArray<std::uint8_t>>();
          CaseVoxelResult   result;
          switch (maps[i].ndim())
          {
            case 2:
              result = EvaluateOne<2>(maps[i], truths[i], region, options, name);
              break;
            case 3:
              result = EvaluateOne<3>(maps[i], truths[i], region, options, name);
              break;
            default:
              throw InputError(name + ": expected a 2D or 3D score map");
          }
          cohort.Merge(result.table);
          components += result.components;
          counts.truePositives += result.counts.truePositives;
          counts.falsePositives += result.counts.falsePositives;
          counts.falseNegatives += result.counts.falseNegatives;
          counts.trueNegatives += result.counts.trueNegatives;
          py::gil_scoped_acquire acquire;
          caseScores.append(result.meanScore);
        }
      }
      py::dict metrics;
      metrics["voxel_auroc"] = Optional(AreaUnderRocCurve(cohort));
      metrics["voxel_average_precision"] = Optional(AveragePrecision(cohort));
      metrics["au_pro"] = Optional(AreaUnderProCurve(cohort, components, fprLimit));
      metrics["dice"] = DiceFromCounts(counts);
      metrics["iou"] = IoUFromCounts(counts);
      if (const auto best = MaximumDice(cohort))
      {
        metrics["best_dice"] = best->dice;
        metrics["best_dice_threshold"] = best->threshold;
      }
      else
      {
        metrics["best_dice"] = py::none();
        metrics["best_dice_threshold"] = py::none();
      }
      metrics["components"] = components;
      metrics["case_scores"] = caseScores;
      return metrics;
    },
    py::arg("maps"),
    py::arg("ground_truths"),
    py::kw_only(),
    py::arg("regions") = py::none(),
    py::arg("threshold") = 0.5,
    py::arg("fpr_limit") = 0.3,
    py::arg("fully_connected") = true,
    R"doc(Voxel-level metrics over a cohort of score maps, all voxels of all cases together
(the MOOD challenge's pixel metric), computed exactly with ties grouped: voxel_auroc,
voxel_average_precision, au_pro (PRO curve up to fpr_limit, normalised by it, per connected
component of the ground truth, MVTec AD protocol), dice and iou at `threshold`, and the
best Dice over all thresholds. ground_truths and regions: uint8 arrays (non-zero =
anomalous / evaluated) or None. case_scores: the mean of each map.)doc");
}

} // namespace nsa::python
