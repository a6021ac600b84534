#ifndef nsaEvaluationReport_h
#define nsaEvaluationReport_h

#include "nsaCohortEvaluation.h"

#include <string>
#include <vector>

namespace nsa
{

/** \file nsaEvaluationReport.h
 * \brief The outputs of a cohort evaluation: metrics.json, cases.csv and a self-contained
 * HTML report (inline SVG and PNG; it opens in a browser with no network).
 */

/** metrics.json: every metric with its value (null when undefined) and its definition, the
 * cohort's counts, the settings and the software version (nsa::Version()). */
std::string
MetricsJson(const CohortEvaluation & evaluation, const CohortMetrics & metrics);

/** cases.csv: one row per case in manifest order (case_id, label, score, score_source,
 * voxel_level, evaluated_voxels, lesion_voxels, components, max_score, true_positives,
 * false_positives, false_negatives, dice, iou); empty fields where undefined. */
std::string
CasesCsv(const CohortEvaluation & evaluation);

/** \brief One overlay thumbnail of the report. */
struct ReportThumbnail
{
  std::string caseId;
  std::string caption;
  std::string png; ///< PNG file bytes (embedded as base64)
};

/** The HTML report: metric table, ROC and precision-recall curves (case and voxel level),
 * PRO curve, case-score distribution by label, and the thumbnails of the highest-scoring
 * cases and of the worst misses. Element ids for tests and styling: `metrics`, `roc-curve`,
 * `pr-curve`, `pro-curve`, `score-distribution`, `top-cases`, `worst-misses`. */
std::string
HtmlReport(const CohortEvaluation &             evaluation,
           const CohortMetrics &                metrics,
           const std::vector<ReportThumbnail> & topCases,
           const std::vector<ReportThumbnail> & worstMisses,
           const std::string &                  title);

/** Standard base64 (RFC 4648) of `bytes`. */
std::string
Base64(const std::string & bytes);

/** Cases for the report, as indices into evaluation.Cases(): the `count` cases with the
 * highest case scores, and up to `count` worst misses: first case-level misses by their share
 * of mis-ordered (anomalous, normal) pairs, then anomalous voxel-level cases by lowest Dice. */
void
SelectReportCases(const CohortEvaluation & evaluation,
                  std::size_t              count,
                  std::vector<std::size_t> & topCases,
                  std::vector<std::size_t> & worstMisses);

} // namespace nsa

#endif
