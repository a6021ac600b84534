#ifndef nsaPredictionEvaluation_h
#define nsaPredictionEvaluation_h

#include "nsaCohortEvaluation.h"
#include "nsaProgress.h"

#include "itkImage.h"

#include <functional>

#include <optional>
#include <string>
#include <vector>

namespace nsa
{

/** \brief One row of an evaluation manifest. */
struct EvaluationCase
{
  std::string         caseId;
  std::string         image; ///< absolute, or relative to the manifest's folder (resolved on reading)
  std::string         mask;  ///< ground truth; empty when none
  std::optional<bool> label; ///< true = anomalous; empty when the manifest has none
};

/** Reads a cohort manifest with nsa::ReadManifest (IO module: CSV with a header row naming
 * `case_id` and `image`, optionally `mask` and `label` 0/1; relative paths resolved against
 * the manifest's folder; files must exist) and checks that every case id can name its
 * prediction files. Throws nsa::InputError naming the file, the line and the problem. */
std::vector<EvaluationCase>
ReadEvaluationManifest(const std::string & path);

/** \brief Where the predictions are and how the cohort is split. */
struct PredictionEvaluationOptions
{
  /** Folder of predictions in MOOD naming: `<case>.nii.gz` score maps and `<case>.txt` (or
   * MOOD's `<case>.nii.gz.txt`) case scores; either may be missing for a case. */
  std::string predictions;
  /** A region mask on the maps' grid applied to every case; empty = none. */
  std::string regionMask;
  /** Restrict the voxel metrics to the voxels where the case's image is nonzero (a
   * skull-stripped or cropped study). Combines with regionMask. */
  bool regionImageNonzero = false;
  /** Worker threads reading and evaluating cases (each holds one case's images). */
  unsigned int threads = 1;
  /** Evaluate every `shards`-th case of the manifest starting at `shard` (0-based). */
  unsigned int shard = 0;
  unsigned int shards = 1;
};

/** Evaluates the cases of `manifest` that belong to the shard: reads each case's prediction
 * (score map and/or case score; the case score defaults to the mean of the map, the toolkit's
 * case score), ground truth and region, and accumulates the case into a CohortEvaluation
 * without keeping any image. Case scores come from the text file when it exists.
 *
 * A case takes part in the voxel-level metrics when it has a score map and either a
 * ground-truth mask or the label "normal" (then every voxel is negative). Its label is the
 * manifest's, or else whether its mask (inside the region) holds any anomalous voxel.
 *
 * Throws nsa::InputError naming the case and file: no prediction at all for a case, a
 * score file that does not hold exactly one number, a map off the mask's grid. The result
 * does not depend on the number of threads. */
CohortEvaluation
EvaluatePredictionFolder(const std::vector<EvaluationCase> &   manifest,
                         const EvaluationSettings &            settings,
                         const PredictionEvaluationOptions &   options,
                         ProgressObserver &                    progress);

/** \brief A case's prediction, supplied by a CasePredictor. */
struct CasePrediction
{
  itk::Image<float, 3>::Pointer map;         ///< score map on the case's grid; null when none
  std::optional<double>         score;       ///< case score; empty: the mean of the map
  std::string                   scoreSource; ///< how the score was made ("file", "model mean", ...)
  std::string                   mapPath;     ///< where the map is stored, for the report; may be empty
};

/** Predicts one case. Called concurrently from the worker threads, one case per call: it
 * must be safe to call from several threads at once. */
using CasePredictor = std::function<CasePrediction(const EvaluationCase &)>;

/** Evaluates the cases of the shard with predictions made on the fly by `predictor` (a model,
 * a baseline, a test double), on `options.threads` worker threads; `options.predictions` is
 * not used. Otherwise as EvaluatePredictionFolder; the result does not depend on the number of
 * threads. */
CohortEvaluation
EvaluateCohort(const std::vector<EvaluationCase> & manifest,
               const EvaluationSettings &          settings,
               const PredictionEvaluationOptions & options,
               const CasePredictor &               predictor,
               ProgressObserver &                  progress);

/** Renders a case for the report as PNG bytes: the image's slice through `slice` (the last
 * axis; clamped) in grey (1st-99th percentile window), the score map in heat colours where
 * score >= threshold, the ground-truth outline in green. */
std::string
RenderCaseThumbnail(const CaseRecord & record, long slice, double threshold);

} // namespace nsa

#endif
