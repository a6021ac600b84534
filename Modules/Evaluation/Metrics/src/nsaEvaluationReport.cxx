#include "nsaEvaluationReport.h"

#include "nsaPreset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <numeric>
#include <sstream>

namespace nsa
{

namespace
{
nlohmann::json
Metric(const std::optional<double> & value, const std::string & definition)
{
  return { { "value", value ? nlohmann::json(*value) : nlohmann::json(nullptr) }, { "definition", definition } };
}

std::string
Html(const std::string & text)
{
  std::string out;
  for (char c : text)
  {
    switch (c)
    {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string
CsvField(const std::string & text)
{
  if (text.find_first_of(",\"\n\r") == std::string::npos)
  {
    return text;
  }
  std::string out = "\"";
  for (char c : text)
  {
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  }
  return out + "\"";
}

std::string
Number(const std::optional<double> & value, int precision = 17)
{
  if (!value)
  {
    return "";
  }
  std::ostringstream out;
  out << std::setprecision(precision) << *value;
  return out.str();
}

std::string
Shown(const std::optional<double> & value)
{
  return value ? Number(value, 4) : std::string("undefined");
}

// SVG plot frame: 300 x 300 data area inside a 380 x 360 picture.
constexpr double kLeft = 55;
constexpr double kTop = 20;
constexpr double kSize = 300;

std::string
PlotX(double x)
{
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << kLeft + x * kSize;
  return out.str();
}
std::string
PlotY(double y)
{
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << kTop + (1.0 - y) * kSize;
  return out.str();
}

std::string
Axes(const std::string & xLabel, const std::string & yLabel)
{
  std::ostringstream svg;
  svg << "<rect x='" << kLeft << "' y='" << kTop << "' width='" << kSize << "' height='" << kSize
      << "' fill='none' stroke='#444'/>";
  for (int i = 0; i <= 5; ++i)
  {
    const double v = i / 5.0;
    svg << "<line class='grid' x1='" << PlotX(v) << "' y1='" << PlotY(0) << "' x2='" << PlotX(v) << "' y2='"
        << PlotY(1) << "' stroke='#ddd'/>";
    svg << "<line class='grid' x1='" << PlotX(0) << "' y1='" << PlotY(v) << "' x2='" << PlotX(1) << "' y2='"
        << PlotY(v) << "' stroke='#ddd'/>";
    svg << "<text x='" << PlotX(v) << "' y='" << kTop + kSize + 15 << "' text-anchor='middle'>" << v << "</text>";
    svg << "<text x='" << kLeft - 5 << "' y='" << PlotY(v) << "' text-anchor='end' dominant-baseline='middle'>" << v
        << "</text>";
  }
  svg << "<text x='" << kLeft + kSize / 2 << "' y='" << kTop + kSize + 35 << "' text-anchor='middle'>"
      << Html(xLabel) << "</text>";
  svg << "<text transform='translate(15," << kTop + kSize / 2 << ") rotate(-90)' text-anchor='middle'>"
      << Html(yLabel) << "</text>";
  return svg.str();
}

struct Series
{
  std::string                     name;
  std::string                     cssClass;
  std::string                     colour;
  const std::vector<CurvePoint> * points;
};

std::string
CurvePlot(const std::string &         id,
          const std::string &         title,
          const std::string &         xLabel,
          const std::string &         yLabel,
          const std::vector<Series> & series,
          bool                        diagonal,
          double                      xLimit = -1)
{
  std::ostringstream svg;
  svg << "<figure><svg id='" << id << "' xmlns='http://www.w3.org/2000/svg' width='380' height='365' "
      << "role='img' aria-label='" << Html(title) << "'><title>" << Html(title) << "</title>";
  svg << Axes(xLabel, yLabel);
  if (diagonal)
  {
    svg << "<line x1='" << PlotX(0) << "' y1='" << PlotY(0) << "' x2='" << PlotX(1) << "' y2='" << PlotY(1)
        << "' stroke='#999' stroke-dasharray='4 4'/>";
  }
  if (xLimit > 0)
  {
    svg << "<line class='limit' x1='" << PlotX(xLimit) << "' y1='" << PlotY(0) << "' x2='" << PlotX(xLimit)
        << "' y2='" << PlotY(1) << "' stroke='#777' stroke-dasharray='2 3'/>";
  }
  int legend = 0;
  for (const Series & s : series)
  {
    if (s.points->empty())
    {
      svg << "<text x='" << kLeft + 10 << "' y='" << kTop + 20 + 16 * legend++ << "' fill='" << s.colour << "'>"
          << Html(s.name) << ": undefined</text>";
      continue;
    }
    svg << "<polyline class='curve " << s.cssClass << "' fill='none' stroke='" << s.colour
        << "' stroke-width='2' points='";
    for (const CurvePoint & p : *s.points)
    {
      svg << PlotX(p.x) << ',' << PlotY(p.y) << ' ';
    }
    svg << "'/>";
    svg << "<text class='legend' x='" << kLeft + kSize - 10 << "' y='" << kTop + kSize - 12 - 16 * legend++
        << "' text-anchor='end' fill='" << s.colour << "'>" << Html(s.name) << "</text>";
  }
  svg << "</svg><figcaption>" << Html(title) << "</figcaption></figure>";
  return svg.str();
}

std::string
ScoreDistribution(const CohortEvaluation & evaluation)
{
  std::vector<double> scores;
  for (const CaseRecord & c : evaluation.Cases())
  {
    if (c.score)
    {
      scores.push_back(*c.score);
    }
  }
  std::ostringstream svg;
  svg << "<figure><svg id='score-distribution' xmlns='http://www.w3.org/2000/svg' width='380' height='365' "
      << "role='img' aria-label='Case score distribution'><title>Case score distribution</title>";
  if (scores.empty())
  {
    svg << "<text x='20' y='40'>no case scores</text></svg></figure>";
    return svg.str();
  }
  const double low = *std::min_element(scores.begin(), scores.end());
  double       high = *std::max_element(scores.begin(), scores.end());
  if (!(high > low))
  {
    high = low + 1.0;
  }
  constexpr int bins = 20;
  // Counts per bin for normal (0), anomalous (1) and unlabelled (2) cases.
  std::vector<std::array<int, 3>> counts(bins, { 0, 0, 0 });
  for (const CaseRecord & c : evaluation.Cases())
  {
    if (!c.score)
    {
      continue;
    }
    const int bin = std::min(bins - 1, static_cast<int>((*c.score - low) / (high - low) * bins));
    ++counts[bin][c.label ? (*c.label ? 1 : 0) : 2];
  }
  int maximum = 1;
  for (const auto & bin : counts)
  {
    maximum = std::max({ maximum, bin[0], bin[1], bin[2] });
  }
  svg << "<rect x='" << kLeft << "' y='" << kTop << "' width='" << kSize << "' height='" << kSize
      << "' fill='none' stroke='#444'/>";
  const char * colours[3] = { "#1f77b4", "#d62728", "#7f7f7f" };
  const char * classes[3] = { "normal", "anomalous", "unlabelled" };
  const double barWidth = kSize / bins / 3.0;
  for (int b = 0; b < bins; ++b)
  {
    for (int k = 0; k < 3; ++k)
    {
      if (counts[b][k] == 0)
      {
        continue;
      }
      const double h = kSize * counts[b][k] / maximum;
      svg << "<rect class='bar " << classes[k] << "' x='" << kLeft + (b * 3 + k) * barWidth << "' y='"
          << kTop + kSize - h << "' width='" << barWidth << "' height='" << h << "' fill='" << colours[k] << "'>"
          << "<title>" << counts[b][k] << ' ' << classes[k] << "</title></rect>";
    }
  }
  for (int i = 0; i <= 4; ++i)
  {
    const double v = low + (high - low) * i / 4.0;
    svg << "<text x='" << kLeft + kSize * i / 4.0 << "' y='" << kTop + kSize + 15 << "' text-anchor='middle'>"
        << std::setprecision(3) << v << "</text>";
  }
  svg << "<text x='" << kLeft - 5 << "' y='" << kTop + 5 << "' text-anchor='end'>" << maximum << "</text>";
  svg << "<text x='" << kLeft - 5 << "' y='" << kTop + kSize << "' text-anchor='end'>0</text>";
  svg << "<text x='" << kLeft + kSize / 2 << "' y='" << kTop + kSize + 35 << "' text-anchor='middle'>case score</text>";
  svg << "<text transform='translate(15," << kTop + kSize / 2 << ") rotate(-90)' text-anchor='middle'>cases</text>";
  for (int k = 0; k < 3; ++k)
  {
    svg << "<text x='" << kLeft + 10 << "' y='" << kTop + 18 + 16 * k << "' fill='" << colours[k] << "'>" << classes[k]
        << "</text>";
  }
  svg << "</svg><figcaption>Case score distribution by label</figcaption></figure>";
  return svg.str();
}

std::string
Thumbnails(const std::string & id, const std::string & heading, const std::vector<ReportThumbnail> & thumbnails)
{
  std::ostringstream html;
  html << "<section id='" << id << "'><h2>" << Html(heading) << "</h2>";
  if (thumbnails.empty())
  {
    html << "<p>none</p>";
  }
  for (const ReportThumbnail & t : thumbnails)
  {
    html << "<figure class='thumbnail'><img alt='" << Html(t.caseId) << "' src='data:image/png;base64,"
         << Base64(t.png) << "'/><figcaption><b>" << Html(t.caseId) << "</b><br/>" << Html(t.caption)
         << "</figcaption></figure>";
  }
  html << "</section>";
  return html.str();
}
} // namespace

std::string
MetricsJson(const CohortEvaluation & evaluation, const CohortMetrics & m)
{
  const auto &   s = evaluation.Settings();
  nlohmann::json json;
  json["software"] = { { "name", "NSA Toolkit" }, { "program", "NSAEvaluate" }, { "version", Version() } };
  json["settings"] = { { "threshold", s.voxel.threshold },
                       { "fully_connected", s.voxel.fullyConnected },
                       { "score_bits", s.voxel.scoreBits },
                       { "fpr_limit", s.fprLimit },
                       { "region", s.region } };
  json["cohort"] = { { "cases", m.cases },
                     { "scored_cases", m.scoredCases },
                     { "anomalous_cases", m.anomalousCases },
                     { "normal_cases", m.normalCases },
                     { "voxel_level_cases", m.voxelCases },
                     { "voxels", m.voxels },
                     { "lesion_voxels", m.lesionVoxels },
                     { "components", m.components },
                     { "distinct_voxel_scores", m.distinctVoxelScores } };
  const std::string ties = " Thresholds are the distinct scores; tied scores form one step (scikit-learn's "
                           "definition).";
  auto & metrics = json["metrics"];
  metrics["case_auroc"] = Metric(m.caseAuroc, "Area under the ROC curve of the case scores against the case labels "
                                              "(trapezoid rule, = roc_auc_score)." + ties);
  metrics["case_average_precision"] = Metric(
    m.caseAveragePrecision,
    "Average precision of the case scores: sum over thresholds of (R_n - R_{n-1}) P_n (= average_precision_score)." +
      ties);
  metrics["voxel_auroc"] = Metric(m.voxelAuroc, "Area under the ROC curve over all evaluated voxels of all "
                                                "voxel-level cases pooled (the MOOD pixel-level protocol)." +
                                                  ties);
  metrics["voxel_average_precision"] =
    Metric(m.voxelAveragePrecision, "Average precision over all evaluated voxels pooled." + ties);
  std::ostringstream proDefinition;
  proDefinition << "Area under the per-region-overlap curve up to a false-positive rate of " << s.fprLimit
                << ", divided by " << s.fprLimit
                << " (MVTec AD protocol): PRO = mean over ground-truth connected components ("
                << (s.voxel.fullyConnected ? "full" : "face") << " connectivity) of the fraction detected, "
                << "FPR over all negative voxels; linear interpolation at the limit.";
  metrics["au_pro"] = Metric(m.auPro, proDefinition.str());
  std::ostringstream thresholdText;
  thresholdText << " at threshold " << s.voxel.threshold << " (score >= threshold is anomalous)";
  metrics["pooled_dice"] =
    Metric(m.pooledDice, "Dice 2TP/(2TP+FP+FN) of all evaluated voxels pooled" + thresholdText.str() + ".");
  metrics["pooled_iou"] =
    Metric(m.pooledIoU, "IoU TP/(TP+FP+FN) of all evaluated voxels pooled" + thresholdText.str() + ".");
  metrics["mean_dice"] = Metric(m.meanDice, "Mean of the per-case Dice" + thresholdText.str() +
                                              " over voxel-level cases with ground-truth voxels.");
  metrics["mean_iou"] = Metric(m.meanIoU, "Mean of the per-case IoU" + thresholdText.str() +
                                            " over voxel-level cases with ground-truth voxels.");
  metrics["best_dice"] = Metric(m.bestDice ? std::optional<double>(m.bestDice->dice) : std::nullopt,
                                "Maximum over thresholds of the pooled Dice (the highest threshold when tied).");
  metrics["best_dice_threshold"] =
    Metric(m.bestDice ? std::optional<double>(m.bestDice->threshold) : std::nullopt,
           "The threshold (a distinct voxel score) that maximises the pooled Dice.");
  metrics["best_dice_iou"] = Metric(m.bestDice ? std::optional<double>(m.bestDice->iou) : std::nullopt,
                                    "Pooled IoU at the Dice-maximising threshold.");
  json["pooled_counts"] = { { "true_positives", m.pooledCounts.truePositives },
                            { "false_positives", m.pooledCounts.falsePositives },
                            { "false_negatives", m.pooledCounts.falseNegatives },
                            { "true_negatives", m.pooledCounts.trueNegatives } };
  return json.dump(2) + "\n";
}

std::string
CasesCsv(const CohortEvaluation & evaluation)
{
  std::ostringstream csv;
  csv << "case_id,label,score,score_source,voxel_level,evaluated_voxels,lesion_voxels,components,max_score,"
         "true_positives,false_positives,false_negatives,dice,iou\n";
  for (const CaseRecord & c : evaluation.Cases())
  {
    csv << CsvField(c.caseId) << ',' << (c.label ? (*c.label ? "1" : "0") : "") << ',' << Number(c.score) << ','
        << CsvField(c.scoreSource) << ',' << (c.voxelLevel ? 1 : 0) << ',';
    if (c.voxelLevel)
    {
      csv << c.evaluatedVoxels << ',' << c.lesionVoxels << ',' << c.components << ',' << Number(c.maxScore) << ','
          << c.counts.truePositives << ',' << c.counts.falsePositives << ',' << c.counts.falseNegatives << ','
          << Number(c.Dice()) << ',' << Number(c.IoU());
    }
    else
    {
      csv << ",,,,,,,,";
    }
    csv << '\n';
  }
  return csv.str();
}

void
SelectReportCases(const CohortEvaluation &   evaluation,
                  std::size_t                count,
                  std::vector<std::size_t> & topCases,
                  std::vector<std::size_t> & worstMisses)
{
  const auto & cases = evaluation.Cases();
  topCases.clear();
  worstMisses.clear();
  std::vector<std::size_t> scored;
  for (std::size_t i = 0; i < cases.size(); ++i)
  {
    if (cases[i].score)
    {
      scored.push_back(i);
    }
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [&](std::size_t a, std::size_t b) { return *cases[a].score > *cases[b].score; });
  topCases.assign(scored.begin(), scored.begin() + std::min(count, scored.size()));

  // A miss's severity is its share of mis-ordered pairs: for an anomalous case the fraction
  // of normal cases scoring at least as high, for a normal case the fraction of anomalous
  // cases scoring at most as high.
  std::vector<double> normal, anomalous;
  for (std::size_t i : scored)
  {
    if (cases[i].label)
    {
      (*cases[i].label ? anomalous : normal).push_back(*cases[i].score);
    }
  }
  std::vector<std::pair<double, std::size_t>> severity;
  if (!normal.empty() && !anomalous.empty())
  {
    for (std::size_t i : scored)
    {
      if (!cases[i].label)
      {
        continue;
      }
      const double s = *cases[i].score;
      double       wrong = 0;
      if (*cases[i].label)
      {
        for (double n : normal)
          wrong += n > s ? 1.0 : (n == s ? 0.5 : 0.0);
        wrong /= normal.size();
      }
      else
      {
        for (double a : anomalous)
          wrong += a < s ? 1.0 : (a == s ? 0.5 : 0.0);
        wrong /= anomalous.size();
      }
      if (wrong > 0)
      {
        severity.emplace_back(wrong, i);
      }
    }
  }
  std::stable_sort(severity.begin(), severity.end(), [](const auto & a, const auto & b) { return a.first > b.first; });
  // Then voxel-level misses: anomalous cases by lowest Dice at the threshold.
  std::vector<std::pair<double, std::size_t>> segmentation;
  for (std::size_t i = 0; i < cases.size(); ++i)
  {
    if (cases[i].voxelLevel && cases[i].lesionVoxels > 0 && *cases[i].Dice() < 1.0)
    {
      segmentation.emplace_back(1.0 - *cases[i].Dice(), i);
    }
  }
  std::stable_sort(segmentation.begin(), segmentation.end(),
                   [](const auto & a, const auto & b) { return a.first > b.first; });
  severity.insert(severity.end(), segmentation.begin(), segmentation.end());
  for (const auto & entry : severity)
  {
    if (worstMisses.size() == count)
    {
      break;
    }
    if (std::find(worstMisses.begin(), worstMisses.end(), entry.second) == worstMisses.end())
    {
      worstMisses.push_back(entry.second);
    }
  }
}

std::string
HtmlReport(const CohortEvaluation &             evaluation,
           const CohortMetrics &                m,
           const std::vector<ReportThumbnail> & topCases,
           const std::vector<ReportThumbnail> & worstMisses,
           const std::string &                  title)
{
  const auto &       s = evaluation.Settings();
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'/><title>" << Html(title) << "</title>"
       << "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
       << "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}figure{display:inline-block;margin:0 1em 1em 0;"
       << "vertical-align:top}svg text{font-size:12px;font-family:sans-serif}.thumbnail img{width:256px;"
       << "image-rendering:pixelated;border:1px solid #888}.thumbnail figcaption{font-size:12px;max-width:256px}"
       << "</style></head><body>\n";
  html << "<h1>" << Html(title) << "</h1>\n";
  html << "<p>NSA Toolkit " << Html(Version()) << " &mdash; " << m.cases << " cases (" << m.anomalousCases
       << " anomalous, " << m.normalCases << " normal, " << m.voxelCases << " with voxel-level evaluation); "
       << m.voxels << " voxels, " << m.lesionVoxels << " anomalous voxels in " << m.components
       << " components. Threshold " << s.voxel.threshold << "; region: " << Html(s.region.empty() ? "all voxels" : s.region)
       << ".</p>\n";
  html << "<table id='metrics'><tr><th>metric</th><th>value</th></tr>"
       << "<tr><td>case AUROC</td><td>" << Shown(m.caseAuroc) << "</td></tr>"
       << "<tr><td>case average precision</td><td>" << Shown(m.caseAveragePrecision) << "</td></tr>"
       << "<tr><td>voxel AUROC</td><td>" << Shown(m.voxelAuroc) << "</td></tr>"
       << "<tr><td>voxel average precision</td><td>" << Shown(m.voxelAveragePrecision) << "</td></tr>"
       << "<tr><td>AU-PRO (FPR &le; " << s.fprLimit << ")</td><td>" << Shown(m.auPro) << "</td></tr>"
       << "<tr><td>pooled Dice at " << s.voxel.threshold << "</td><td>" << Shown(m.pooledDice) << "</td></tr>"
       << "<tr><td>mean per-case Dice at " << s.voxel.threshold << "</td><td>" << Shown(m.meanDice) << "</td></tr>"
       << "<tr><td>best pooled Dice</td><td>"
       << (m.bestDice ? Shown(m.bestDice->dice) + " at threshold " + Number(m.bestDice->threshold, 6)
                      : std::string("undefined"))
       << "</td></tr></table>\n<p>Definitions: metrics.json.</p>\n";

  const std::string caseName = "case level, AUROC " + Shown(m.caseAuroc);
  const std::string voxelName = "voxel level, AUROC " + Shown(m.voxelAuroc);
  html << "<section id='curves'><h2>Curves</h2>";
  html << CurvePlot("roc-curve", "ROC curves", "false-positive rate", "true-positive rate",
                    { { caseName, "case", "#1f77b4", &m.caseRoc }, { voxelName, "voxel", "#d62728", &m.voxelRoc } },
                    true);
  html << CurvePlot("pr-curve", "Precision-recall curves", "recall", "precision",
                    { { "case level, AP " + Shown(m.caseAveragePrecision), "case", "#1f77b4", &m.casePrecisionRecall },
                      { "voxel level, AP " + Shown(m.voxelAveragePrecision), "voxel", "#d62728",
                        &m.voxelPrecisionRecall } },
                    false);
  html << CurvePlot("pro-curve", "Per-region overlap curve", "false-positive rate", "per-region overlap",
                    { { "AU-PRO " + Shown(m.auPro), "pro", "#2ca02c", &m.pro } }, false, s.fprLimit);
  html << ScoreDistribution(evaluation);
  html << "</section>\n";
  html << Thumbnails("top-cases", "Highest-scoring cases", topCases) << '\n';
  html << Thumbnails("worst-misses", "Worst misses", worstMisses) << '\n';
  html << "<p>Thumbnails: image slice (grey) through the case's highest score, score map (heat, "
          "transparent below the threshold), ground truth outlined in green.</p>\n";
  html << "</body></html>\n";
  return html.str();
}

std::string
Base64(const std::string & bytes)
{
  static const char * alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string         out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3)
  {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < bytes.size())
  {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size())
    {
      v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    }
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

} // namespace nsa
