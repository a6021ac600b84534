#include "nsaCohortEvaluation.h"
#include "nsaEvaluationReport.h"
#include "nsaPredictionEvaluation.h"

#include "nsaError.h"
#include "nsaImageIO.h"
#include "nsaRandom.h"

#include "gtest/gtest.h"

#include <nlohmann/json.hpp>

#include <optional>

#include <atomic>
#include <filesystem>
#include <fstream>

namespace
{
namespace fs = std::filesystem;
using MapType = itk::Image<float, 3>;
using MaskType = itk::Image<unsigned char, 3>;

/** A small cohort on disk: 9 cases, 16 x 16 x 6 volumes. Cases 0-4 anomalous with one or two
 * box lesions, 5-8 normal (no mask, label 0). Maps: lesion voxels score higher on average,
 * values quantised to 1/64 so that ties occur within and across cases. Odd cases also get a
 * <case>.txt score; the others use the map mean. */
struct Cohort
{
  std::string                       folder;
  std::string                       manifest;
  std::vector<nsa::EvaluationCase>  cases;

  explicit Cohort(const std::string & name)
  {
    folder = std::string(NSA_TEST_OUTPUT_DIR) + "/" + name;
    fs::remove_all(folder);
    fs::create_directories(folder + "/predictions");
    manifest = folder + "/manifest.csv";
    std::ofstream csv(manifest);
    csv << "label,case_id,image,mask\n";
    for (int c = 0; c < 9; ++c)
    {
      nsa::RandomStream random(3, 0, c, nsa::RandomPurpose::Test);
      const std::string id = "case" + std::to_string(c);
      auto              image = MakeImage<MapType>(0.0f);
      auto              map = MakeImage<MapType>(0.0f);
      auto              mask = MakeImage<MaskType>(0);
      const bool        anomalous = c < 5;
      if (anomalous)
      {
        for (int lesion = 0; lesion < 1 + c % 2; ++lesion)
        {
          const long x0 = random.UniformInteger(0, 11), y0 = random.UniformInteger(0, 11),
                     z0 = random.UniformInteger(0, 3);
          for (long z = z0; z < z0 + 2; ++z)
            for (long y = y0; y < y0 + 4; ++y)
              for (long x = x0; x < x0 + 3; ++x)
                mask->SetPixel({ { x, y, z } }, 1);
        }
      }
      const size_t n = map->GetBufferedRegion().GetNumberOfPixels();
      for (size_t i = 0; i < n; ++i)
      {
        const bool lesion = mask->GetBufferPointer()[i] != 0;
        const double s = std::clamp(random.Normal(lesion ? 0.65 : 0.35, 0.15), 0.0, 1.0);
        map->GetBufferPointer()[i] = static_cast<float>(std::round(s * 64.0) / 64.0);
        image->GetBufferPointer()[i] = static_cast<float>(100.0 + 10.0 * random.Normal(0.0, 1.0));
      }
      nsa::WriteImage(image.GetPointer(), folder + "/" + id + "_image.nii.gz");
      nsa::WriteImage(map.GetPointer(), folder + "/predictions/" + id + ".nii.gz");
      std::string maskColumn;
      if (anomalous)
      {
        nsa::WriteImage(mask.GetPointer(), folder + "/" + id + "_mask.nii.gz");
        maskColumn = id + "_mask.nii.gz";
      }
      if (c % 2 == 1)
      {
        std::ofstream(folder + "/predictions/" + id + ".txt") << random.Uniform() + (anomalous ? 0.3 : 0.0) << "\n";
      }
      // Anomalous cases carry no label column value: it comes from the mask.
      csv << (anomalous ? "" : "0") << ',' << id << ',' << id << "_image.nii.gz," << maskColumn << '\n';
    }
    csv.close();
    cases = nsa::ReadEvaluationManifest(manifest);
  }

  template <typename TImage>
  static typename TImage::Pointer
  MakeImage(typename TImage::PixelType value)
  {
    auto image = TImage::New();
    image->SetRegions(typename TImage::SizeType{ { 16, 16, 6 } });
    image->Allocate();
    image->FillBuffer(value);
    return image;
  }

  nsa::PredictionEvaluationOptions
  Options(unsigned int threads = 1, unsigned int shard = 0, unsigned int shards = 1) const
  {
    nsa::PredictionEvaluationOptions options;
    options.predictions = folder + "/predictions";
    options.threads = threads;
    options.shard = shard;
    options.shards = shards;
    return options;
  }
};
} // namespace

TEST(CohortEvaluation, ManifestLabelsScoresAndVoxelLevel)
{
  Cohort             cohort("EvaluationCohortManifest");
  nsa::NullProgress  progress;
  const auto         evaluation =
    nsa::EvaluatePredictionFolder(cohort.cases, nsa::EvaluationSettings(), cohort.Options(), progress);
  ASSERT_EQ(evaluation.Cases().size(), 9u);
  const auto & c0 = evaluation.Cases()[0];
  EXPECT_EQ(c0.caseId, "case0");
  EXPECT_TRUE(c0.label.has_value() && *c0.label); // from the mask
  EXPECT_EQ(c0.scoreSource, "map mean");
  EXPECT_EQ(c0.lesionVoxels, 24u);
  EXPECT_EQ(c0.components, 1u);
  EXPECT_EQ(evaluation.Cases()[1].scoreSource, "file");
  EXPECT_TRUE(evaluation.Cases()[7].voxelLevel); // normal case: every voxel negative
  EXPECT_EQ(evaluation.Cases()[7].lesionVoxels, 0u);
  const auto metrics = evaluation.Compute();
  EXPECT_EQ(metrics.anomalousCases, 5u);
  EXPECT_EQ(metrics.normalCases, 4u);
  EXPECT_EQ(metrics.voxels, 9u * 16 * 16 * 6);
  ASSERT_TRUE(metrics.voxelAuroc && metrics.auPro && metrics.caseAuroc && metrics.bestDice);
  EXPECT_GT(*metrics.voxelAuroc, 0.8); // lesion mean 0.65 vs 0.35 with sigma 0.15: AUROC ~ 0.92
  EXPECT_LE(*metrics.auPro, 1.0);
}

TEST(CohortEvaluation, ThreadsAndShardsGiveTheSingleRunNumbers)
{
  Cohort             cohort("EvaluationCohortShards");
  nsa::NullProgress  progress;
  nsa::EvaluationSettings settings;
  settings.voxel.threshold = 0.5;
  const auto single = nsa::EvaluatePredictionFolder(cohort.cases, settings, cohort.Options(1), progress);
  const auto threaded = nsa::EvaluatePredictionFolder(cohort.cases, settings, cohort.Options(3), progress);
  EXPECT_TRUE(single.VoxelTable() == threaded.VoxelTable());
  const std::string singleJson = nsa::MetricsJson(single, single.Compute());
  EXPECT_EQ(nsa::MetricsJson(threaded, threaded.Compute()), singleJson);

  std::vector<std::string> partials;
  for (unsigned int k = 0; k < 3; ++k)
  {
    const auto part = nsa::EvaluatePredictionFolder(cohort.cases, settings, cohort.Options(2, k, 3), progress);
    EXPECT_EQ(part.Cases().size(), 3u);
    partials.push_back(cohort.folder + "/partial-" + std::to_string(k) + ".nsaeval");
    part.WritePartial(partials.back(), static_cast<int>(k), 3, cohort.cases.size());
  }
  // Merged in a scrambled order: the same bits as the single run.
  const auto merged = nsa::CohortEvaluation::MergePartials({ partials[2], partials[0], partials[1] });
  EXPECT_TRUE(merged.VoxelTable() == single.VoxelTable());
  EXPECT_EQ(nsa::MetricsJson(merged, merged.Compute()), singleJson);
  EXPECT_EQ(nsa::CasesCsv(merged), nsa::CasesCsv(single));

  EXPECT_THROW(nsa::CohortEvaluation::MergePartials({ partials[0], partials[2] }), nsa::InputError);
  EXPECT_THROW(nsa::CohortEvaluation::MergePartials({ partials[0], partials[0], partials[1] }), nsa::InputError);
}

TEST(CohortEvaluation, PartialFileErrorsNameTheFile)
{
  const std::string path = std::string(NSA_TEST_OUTPUT_DIR) + "/EvaluationNotAPartial.nsaeval";
  std::ofstream(path) << "hello\n";
  try
  {
    nsa::CohortEvaluation::ReadPartial(path);
    FAIL() << "no exception";
  }
  catch (const nsa::InputError & e)
  {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  // Truncated: a valid partial cut short.
  nsa::CohortEvaluation evaluation;
  nsa::CaseRecord       record;
  record.caseId = "a";
  record.voxelLevel = true;
  record.evaluatedVoxels = 3; // consistent with the table: one lesion voxel, two others
  record.lesionVoxels = 1;
  record.counts.truePositives = 1;
  record.counts.trueNegatives = 2;
  nsa::CaseVoxelResult voxels;
  voxels.table = nsa::ScoreTable<float>::FromLabelledScores({ 0.1f, 0.7f, 0.4f }, { false, true, false });
  evaluation.AddCase(record, &voxels);
  const std::string full = std::string(NSA_TEST_OUTPUT_DIR) + "/EvaluationPartial.nsaeval";
  evaluation.WritePartial(full, 0, 1, 1);
  const auto roundTrip = nsa::CohortEvaluation::ReadPartial(full);
  EXPECT_TRUE(roundTrip.VoxelTable() == evaluation.VoxelTable());
  const auto size = fs::file_size(full);
  fs::resize_file(full, size - 10);
  EXPECT_THROW(nsa::CohortEvaluation::ReadPartial(full), nsa::InputError);
}

TEST(CohortEvaluation, MergeRefusesDifferentSettingsAndRepeatedCases)
{
  nsa::EvaluationSettings a;
  nsa::EvaluationSettings b;
  b.voxel.threshold = 0.7;
  nsa::CohortEvaluation first(a);
  nsa::CohortEvaluation second(b);
  EXPECT_THROW(first.Merge(second), nsa::InputError);
  nsa::CaseRecord record;
  record.caseId = "x";
  nsa::CohortEvaluation third(a);
  first.AddCase(record, nullptr);
  third.AddCase(record, nullptr);
  EXPECT_THROW(first.Merge(third), nsa::InputError);
  EXPECT_THROW(first.AddCase(record, nullptr), nsa::InputError);
}

TEST(CohortEvaluation, ManifestErrors)
{
  // The manifest format itself is the IO module's (nsa::ReadManifest, tested there); these
  // check what the evaluation relies on.
  const std::string folder = std::string(NSA_TEST_OUTPUT_DIR) + "/EvaluationManifest";
  fs::create_directories(folder + "/dir");
  std::ofstream(folder + "/dir/b.nii.gz") << "placeholder";
  const std::string path = folder + "/manifest.csv";
  std::ofstream(path) << "id,image\na,dir/b.nii.gz\n";
  EXPECT_THROW(nsa::ReadEvaluationManifest(path), nsa::InputError);
  std::ofstream(path) << "case_id,image,label\na,dir/b.nii.gz,maybe\n";
  EXPECT_THROW(nsa::ReadEvaluationManifest(path), nsa::InputError);
  std::ofstream(path) << "case_id,image\na,dir/b.nii.gz\na,dir/b.nii.gz\n";
  EXPECT_THROW(nsa::ReadEvaluationManifest(path), nsa::InputError);
  std::ofstream(path) << "case_id,image\nsub/a,dir/b.nii.gz\n"; // would name a file in a sub-folder
  EXPECT_THROW(nsa::ReadEvaluationManifest(path), nsa::InputError);
  std::ofstream(path) << "case_id,image,label\n\"a,1\",\"dir/b.nii.gz\",1\nc,dir/b.nii.gz,\n";
  const auto cases = nsa::ReadEvaluationManifest(path);
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].caseId, "a,1");
  EXPECT_EQ(fs::path(cases[0].image).lexically_normal(), fs::path(folder + "/dir/b.nii.gz").lexically_normal());
  EXPECT_TRUE(cases[0].label.has_value() && *cases[0].label);
  EXPECT_FALSE(cases[1].label.has_value());
  EXPECT_THROW(nsa::ReadEvaluationManifest(path + ".missing"), nsa::InputError);
}

TEST(CohortEvaluation, MissingPredictionNamesTheCase)
{
  Cohort cohort("EvaluationCohortMissing");
  fs::remove(cohort.folder + "/predictions/case4.nii.gz");
  nsa::NullProgress progress;
  try
  {
    nsa::EvaluatePredictionFolder(cohort.cases, nsa::EvaluationSettings(), cohort.Options(2), progress);
    FAIL() << "no exception";
  }
  catch (const nsa::InputError & e)
  {
    EXPECT_NE(std::string(e.what()).find("case4"), std::string::npos) << e.what();
  }
}

TEST(EvaluationReport, Base64AndHtml)
{
  EXPECT_EQ(nsa::Base64(""), "");
  EXPECT_EQ(nsa::Base64("f"), "Zg==");
  EXPECT_EQ(nsa::Base64("fo"), "Zm8=");
  EXPECT_EQ(nsa::Base64("foo"), "Zm9v");
  EXPECT_EQ(nsa::Base64("foobar"), "Zm9vYmFy");
  nsa::CohortEvaluation evaluation;
  for (int i = 0; i < 4; ++i)
  {
    nsa::CaseRecord record;
    record.index = i;
    record.caseId = "<c" + std::to_string(i) + ">";
    record.score = 0.1 * i;
    record.label = i % 2 == 1;
    evaluation.AddCase(record, nullptr);
  }
  const std::string html = nsa::HtmlReport(evaluation, evaluation.Compute(), {}, {}, "T & T");
  EXPECT_NE(html.find("id='roc-curve'"), std::string::npos);
  EXPECT_NE(html.find("class='curve case'"), std::string::npos);
  EXPECT_NE(html.find("T &amp; T"), std::string::npos);
  EXPECT_EQ(html.find("<c1>"), std::string::npos); // case ids are escaped
  EXPECT_EQ(html.find("http://") , html.find("http://www.w3.org/2000/svg")); // no external resource
  std::vector<std::size_t> top, misses;
  nsa::SelectReportCases(evaluation, 2, top, misses);
  EXPECT_EQ(top, (std::vector<std::size_t>{ 3, 2 }));
  // Scores 0, .1, .2, .3 with labels 0,1,0,1: case 1 (anomalous, 0.1) is below normal case 2,
  // case 2 (normal, 0.2) above anomalous case 1: both half wrong; equal severities keep the
  // order of descending score.
  EXPECT_EQ(misses, (std::vector<std::size_t>{ 2, 1 }));
}

TEST(CohortEvaluation, PredictorOnWorkerThreadsEqualsPredictionFolder)
{
  // A stand-in for a model: it "predicts" by reading the stored map and computes the case score
  // itself, from four threads at once.
  Cohort                cohort("EvaluationCohortPredictor");
  nsa::NullProgress     progress;
  std::atomic<int>      calls{ 0 };
  const nsa::CasePredictor predictor = [&](const nsa::EvaluationCase & c) {
    ++calls;
    nsa::CasePrediction prediction;
    prediction.mapPath = cohort.folder + "/predictions/" + c.caseId + ".nii.gz";
    prediction.map = nsa::ReadImage<MapType>(prediction.mapPath);
    const std::string text = cohort.folder + "/predictions/" + c.caseId + ".txt";
    if (fs::exists(text))
    {
      std::ifstream in(text);
      double        score = 0;
      in >> score;
      prediction.score = score;
    }
    return prediction;
  };
  const auto viaPredictor = nsa::EvaluateCohort(cohort.cases, nsa::EvaluationSettings(), cohort.Options(4), predictor,
                                                progress);
  EXPECT_EQ(calls.load(), 9);
  const auto viaFolder =
    nsa::EvaluatePredictionFolder(cohort.cases, nsa::EvaluationSettings(), cohort.Options(1), progress);
  EXPECT_EQ(nsa::MetricsJson(viaPredictor, viaPredictor.Compute()), nsa::MetricsJson(viaFolder, viaFolder.Compute()));
  EXPECT_EQ(nsa::CasesCsv(viaPredictor), nsa::CasesCsv(viaFolder));

  // A failing predictor: its error reaches the caller; an empty prediction names the case.
  const nsa::CasePredictor failing = [](const nsa::EvaluationCase & c) -> nsa::CasePrediction {
    if (c.caseId == "case5")
    {
      throw nsa::InputError("model failed on case5");
    }
    nsa::CasePrediction prediction;
    prediction.score = 0.5;
    return prediction;
  };
  EXPECT_THROW(nsa::EvaluateCohort(cohort.cases, nsa::EvaluationSettings(), cohort.Options(3), failing, progress),
               nsa::InputError);
  const nsa::CasePredictor empty = [](const nsa::EvaluationCase &) { return nsa::CasePrediction(); };
  EXPECT_THROW(nsa::EvaluateCohort(cohort.cases, nsa::EvaluationSettings(), cohort.Options(2), empty, progress),
               nsa::InputError);
}

TEST(CohortEvaluation, LevelledMergeOfManyCasesIsExact)
{
  // 37 cases added one by one (the cohort keeps its table in binary-counter levels) equal the
  // table of all samples built at once.
  nsa::CohortEvaluation evaluation;
  std::vector<float>    allScores;
  std::vector<bool>     allLabels;
  for (int c = 0; c < 37; ++c)
  {
    nsa::RandomStream  random(9, 0, c, nsa::RandomPurpose::Test);
    std::vector<float> scores;
    std::vector<bool>  labels;
    for (int i = 0; i < 50 + 10 * c; ++i)
    {
      scores.push_back(static_cast<float>(std::round(random.Uniform() * 300.0) / 300.0));
      labels.push_back(random.Bernoulli(0.2));
    }
    allScores.insert(allScores.end(), scores.begin(), scores.end());
    allLabels.insert(allLabels.end(), labels.begin(), labels.end());
    nsa::CaseRecord record;
    record.index = static_cast<std::size_t>(c);
    record.caseId = std::to_string(c);
    record.voxelLevel = true;
    nsa::CaseVoxelResult voxels;
    voxels.table = nsa::ScoreTable<float>::FromLabelledScores(scores, labels);
    evaluation.AddCase(record, &voxels);
  }
  EXPECT_TRUE(evaluation.VoxelTable() == nsa::ScoreTable<float>::FromLabelledScores(allScores, allLabels));
}

TEST(CohortEvaluation, SharedRegionMaskFile)
{
  // A region file on the maps' grid: only its voxels (x < 8, half of each volume) count, and
  // the voxel metrics equal those of the cases evaluated one by one with the same region.
  Cohort cohort("EvaluationCohortRegion");
  auto   region = Cohort::MakeImage<MaskType>(0);
  for (long z = 0; z < 6; ++z)
    for (long y = 0; y < 16; ++y)
      for (long x = 0; x < 8; ++x)
        region->SetPixel({ { x, y, z } }, 1);
  const std::string regionPath = cohort.folder + "/region.nii.gz";
  nsa::WriteImage(region.GetPointer(), regionPath);
  auto options = cohort.Options(2);
  options.regionMask = regionPath;
  nsa::NullProgress progress;
  const auto        evaluation = nsa::EvaluatePredictionFolder(cohort.cases, nsa::EvaluationSettings(), options, progress);
  nsa::ScoreTable<float> expected;
  for (const auto & c : evaluation.Cases())
  {
    EXPECT_EQ(c.evaluatedVoxels, 8u * 16u * 6u) << c.caseId;
    const auto map = nsa::ReadImage<MapType>(c.map);
    const auto truth = c.mask.empty() ? MaskType::Pointer() : nsa::ReadImage<MaskType>(c.mask);
    expected.Merge(nsa::EvaluateCaseVoxels<3>(map, truth, region, nsa::VoxelEvaluationOptions()).table);
  }
  EXPECT_TRUE(evaluation.VoxelTable() == expected);

  // A region on another grid is refused, naming the region file.
  auto small = Cohort::MakeImage<MaskType>(1);
  small->SetRegions(MaskType::SizeType{ { 8, 8, 6 } });
  small->Allocate();
  small->FillBuffer(1);
  nsa::WriteImage(small.GetPointer(), regionPath);
  try
  {
    nsa::EvaluatePredictionFolder(cohort.cases, nsa::EvaluationSettings(), options, progress);
    FAIL() << "no exception";
  }
  catch (const nsa::InputError & e)
  {
    EXPECT_NE(std::string(e.what()).find("region"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------
// Hostile partial results (issue 14): every one refused with a message, nothing allocated on
// a length the file does not hold.
namespace
{

struct RawEntry
{
  float         score;
  std::uint64_t positives;
  std::uint64_t negatives;
};

/** A partial result file written byte by byte: header JSON, entry count, entries. */
void
WriteRawPartial(const std::string &           path,
                const nlohmann::json &        header,
                const std::vector<RawEntry> & entries,
                std::optional<std::uint64_t>  headerLength = std::nullopt,
                std::optional<std::uint64_t>  entryCount = std::nullopt)
{
  std::ofstream     out(path, std::ios::binary);
  const std::string text = header.dump();
  out << "NSA-EVALUATION-PARTIAL 1\n";
  const std::uint64_t length = headerLength.value_or(text.size());
  out.write(reinterpret_cast<const char *>(&length), 8);
  out << text;
  const std::uint64_t count = entryCount.value_or(entries.size());
  out.write(reinterpret_cast<const char *>(&count), 8);
  for (const auto & entry : entries)
  {
    const std::uint64_t zero = 0;
    out.write(reinterpret_cast<const char *>(&entry.score), 4);
    out.write(reinterpret_cast<const char *>(&entry.positives), 8);
    out.write(reinterpret_cast<const char *>(&entry.negatives), 8);
    out.write(reinterpret_cast<const char *>(&zero), 8);
    out.write(reinterpret_cast<const char *>(&zero), 8);
  }
}

nlohmann::json
CaseJson(std::uint64_t index, std::uint64_t lesion, std::uint64_t other)
{
  return { { "index", index },         { "case_id", "c" + std::to_string(index) },
           { "image", "i" },           { "mask", "m" },
           { "map", "p" },             { "score", 0.5 },
           { "score_source", "file" }, { "label", lesion > 0 },
           { "voxel_level", true },    { "evaluated_voxels", lesion + other },
           { "lesion_voxels", lesion }, { "components", lesion > 0 ? 1 : 0 },
           { "true_positives", lesion }, { "false_positives", 0 },
           { "false_negatives", 0 },   { "true_negatives", other },
           { "max_score", 0.9 },       { "peak_slice", 0 },
           { "lesion_slice", 0 } };
}

/** Shard k of n of a manifest of `cases` rows, each case 1 lesion and 3 other voxels. */
nlohmann::json
ShardHeader(std::uint64_t k, std::uint64_t n, std::uint64_t cases)
{
  nlohmann::json header = { { "format", "nsa-evaluation-partial" },
                            { "software_version", "test" },
                            { "shard", k },
                            { "shards", n },
                            { "manifest_cases", cases },
                            { "settings",
                              { { "threshold", 0.5 },
                                { "fully_connected", true },
                                { "score_bits", 12 },
                                { "fpr_limit", 0.3 },
                                { "region", "" } } },
                            { "cases", nlohmann::json::array() } };
  for (std::uint64_t i = k; i < cases; i += n)
  {
    header["cases"].push_back(CaseJson(i, 1, 3));
  }
  return header;
}

std::vector<RawEntry>
ShardEntries(std::uint64_t k, std::uint64_t n, std::uint64_t cases)
{
  std::uint64_t count = 0;
  for (std::uint64_t i = k; i < cases; i += n)
  {
    ++count;
  }
  return { { 0.9f, count, 0 }, { 0.1f, 0, 3 * count } };
}

std::string
ReadPartialError(const std::string & path)
{
  try
  {
    nsa::CohortEvaluation::ReadPartial(path);
  }
  catch (const nsa::InputError & e)
  {
    return e.what();
  }
  return "no error";
}

std::string
MergeError(const std::vector<std::string> & paths)
{
  try
  {
    nsa::CohortEvaluation::MergePartials(paths);
  }
  catch (const nsa::InputError & e)
  {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST(CohortEvaluation, HostilePartialsAreRefused)
{
  const std::string folder = std::string(NSA_TEST_OUTPUT_DIR) + "/EvaluationHostilePartials";
  fs::create_directories(folder);
  const auto file = [&](const std::string & name) { return folder + "/" + name + ".nsaeval"; };
  const auto expectError = [&](const std::string & name, const std::string & fragment) {
    const std::string message = ReadPartialError(file(name));
    EXPECT_NE(message.find(fragment), std::string::npos) << name << ": " << message;
    EXPECT_NE(message.find(file(name)), std::string::npos) << name << ": " << message;
  };

  // The well-formed shards merge.
  WriteRawPartial(file("good0"), ShardHeader(0, 2, 4), ShardEntries(0, 2, 4));
  WriteRawPartial(file("good1"), ShardHeader(1, 2, 4), ShardEntries(1, 2, 4));
  EXPECT_EQ(nsa::CohortEvaluation::MergePartials({ file("good0"), file("good1") }).Cases().size(), 4u);

  WriteRawPartial(file("length"), ShardHeader(0, 1, 1), ShardEntries(0, 1, 1), 3ull << 30);
  expectError("length", "header length 3221225472 exceeds");
  WriteRawPartial(file("manyShards"), ShardHeader(0, 2147483647, 1), ShardEntries(0, 1, 1));
  expectError("manyShards", "above the limit 100000");
  auto header = ShardHeader(0, 1, 1);
  header["shards"] = -5;
  WriteRawPartial(file("negativeShards"), header, ShardEntries(0, 1, 1));
  expectError("negativeShards", "'shards' is -5, not a non-negative integer");
  header = ShardHeader(0, 1, 1);
  header["cases"][0]["index"] = -1;
  WriteRawPartial(file("negativeIndex"), header, ShardEntries(0, 1, 1));
  expectError("negativeIndex", "'index' is -1");
  header = ShardHeader(1, 2, 4);
  header["shard"] = 2;
  WriteRawPartial(file("shardOutOfRange"), header, ShardEntries(1, 2, 4));
  expectError("shardOutOfRange", "'shard' is 2, above the limit 1");
  // Shard 0 of 2 presented as the whole evaluation.
  header = ShardHeader(0, 2, 4);
  header["shards"] = 1;
  WriteRawPartial(file("half"), header, ShardEntries(0, 2, 4));
  expectError("half", "holds 2 cases, but shard 0 of a 4-case manifest split into 1 has 4");
  // Counts that overflow a 64-bit sum.
  WriteRawPartial(file("overflow"), ShardHeader(0, 1, 1), { { 0.9f, 1ull << 63, 0 }, { 0.5f, 1ull << 63, 0 }, { 0.1f, 1, 3 } });
  expectError("overflow", "counts overflow");
  WriteRawPartial(file("countsDiffer"), ShardHeader(0, 1, 1), { { 0.9f, 2, 0 }, { 0.1f, 0, 3 } });
  expectError("countsDiffer", "the score table counts 2 lesion and 3 other voxels, the cases 1 and 3");
  WriteRawPartial(file("entries"), ShardHeader(0, 1, 1), ShardEntries(0, 1, 1), std::nullopt, 1ull << 31);
  expectError("entries", "claims 2147483648 score table entries");
  header = ShardHeader(0, 1, 1);
  header["cases"][0]["true_positives"] = 0;
  WriteRawPartial(file("caseCounts"), header, ShardEntries(0, 1, 1));
  expectError("caseCounts", "voxel counts do not add up");
  header = ShardHeader(0, 1, 1);
  header.erase("manifest_cases");
  WriteRawPartial(file("old"), header, ShardEntries(0, 1, 1));
  expectError("old", "written by an older NSAEvaluate");

  // Merge: shards of different runs, and the missing list stays short.
  WriteRawPartial(file("other1"), ShardHeader(1, 2, 6), ShardEntries(1, 2, 6));
  EXPECT_NE(MergeError({ file("good0"), file("other1") }).find("not the same run"), std::string::npos);
  WriteRawPartial(file("many0"), ShardHeader(0, 100000, 1), ShardEntries(0, 100000, 1));
  const std::string missing = MergeError({ file("many0") });
  EXPECT_NE(missing.find("and 99989 more"), std::string::npos) << missing;
  EXPECT_LT(missing.size(), 400u);
}
