#include "nsaPredictionEvaluation.h"

#include "nsaError.h"
#include "nsaImageIO.h"
#include "nsaManifest.h"
#include "nsaPercentile.h"
#include "nsaPicture.h"


#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace nsa
{

namespace
{
namespace fs = std::filesystem;
using MapType = itk::Image<float, 3>;
using MaskType = itk::Image<unsigned char, 3>;

double
ReadScoreFile(const std::string & path, const std::string & caseId)
{
  std::ifstream in(path);
  if (!in)
  {
    throw InputError("case " + caseId + ": cannot read the score file " + path);
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream parse(text);
  double             score = 0;
  std::string        rest;
  if (!(parse >> score) || (parse >> rest) || !std::isfinite(score))
  {
    throw InputError("case " + caseId + ": the score file " + path + " must hold exactly one finite number, got '" +
                     text.substr(0, 40) + "'");
  }
  return score;
}

bool
Exists(const std::string & path)
{
  std::error_code error;
  return fs::is_regular_file(path, error);
}

std::string
Absolute(const std::string & path)
{
  if (path.empty())
  {
    return path;
  }
  std::error_code error;
  const fs::path  absolute = fs::absolute(path, error);
  return error ? path : absolute.lexically_normal().string();
}

/** The prediction of a case in a MOOD-named folder. */
CasePrediction
ReadFolderPrediction(const EvaluationCase & c, const std::string & folder)
{
  CasePrediction    prediction;
  const std::string mapPath = (fs::path(folder) / (c.caseId + ".nii.gz")).string();
  std::string       scorePath = (fs::path(folder) / (c.caseId + ".txt")).string();
  if (!Exists(scorePath))
  {
    scorePath = (fs::path(folder) / (c.caseId + ".nii.gz.txt")).string();
  }
  const bool hasMap = Exists(mapPath);
  const bool hasScore = Exists(scorePath);
  if (!hasMap && !hasScore)
  {
    throw InputError("case " + c.caseId + ": no prediction in " + folder + " (expected " + c.caseId +
                     ".nii.gz and/or " + c.caseId + ".txt)");
  }
  if (hasScore)
  {
    prediction.score = ReadScoreFile(scorePath, c.caseId);
  }
  if (hasMap)
  {
    prediction.map = ReadImage<MapType>(mapPath);
    prediction.mapPath = mapPath;
  }
  return prediction;
}

/** Evaluates one case; returns its record and, when voxel-level, its voxel result. */
CaseRecord
EvaluateOneCase(const EvaluationCase &              c,
                std::size_t                         index,
                const EvaluationSettings &          settings,
                const PredictionEvaluationOptions & options,
                const MaskType *                    sharedRegion,
                CasePrediction                      prediction,
                std::optional<CaseVoxelResult> &    voxels)
{
  CaseRecord record;
  record.index = index;
  record.caseId = c.caseId;
  // Absolute paths: a merge of partial results may run in another working folder.
  record.image = Absolute(c.image);
  record.mask = Absolute(c.mask);
  record.label = c.label;
  record.map = Absolute(prediction.mapPath);
  if (!prediction.map && !prediction.score)
  {
    throw InputError("case " + c.caseId + ": the predictor returned neither a score map nor a case score");
  }
  if (prediction.score)
  {
    if (!std::isfinite(*prediction.score))
    {
      throw InputError("case " + c.caseId + ": the case score is not a finite number");
    }
    record.score = prediction.score;
    record.scoreSource = prediction.scoreSource.empty() ? "file" : prediction.scoreSource;
  }
  const bool hasMap = static_cast<bool>(prediction.map);
  const bool voxelLevel = hasMap && (!c.mask.empty() || (c.label && !*c.label));
  if (!hasMap)
  {
    if (!c.mask.empty() && !c.label)
    {
      // The label comes from the mask even when no voxel-level evaluation is possible.
      const auto truth = ReadImage<MaskType>(c.mask);
      const auto * buffer = truth->GetBufferPointer();
      const size_t n = truth->GetBufferedRegion().GetNumberOfPixels();
      record.label = std::any_of(buffer, buffer + n, [](unsigned char v) { return v != 0; });
    }
    return record;
  }

  const MapType::Pointer map = prediction.map;
  MaskType::Pointer truth;
  if (!c.mask.empty())
  {
    truth = ReadImage<MaskType>(c.mask);
  }
  MaskType::Pointer region;
  if (sharedRegion != nullptr || options.regionImageNonzero)
  {
    region = MaskType::New();
    region->CopyInformation(map);
    region->SetRegions(map->GetLargestPossibleRegion());
    region->Allocate();
    region->FillBuffer(1);
    const size_t    n = region->GetBufferedRegion().GetNumberOfPixels();
    unsigned char * out = region->GetBufferPointer();
    if (sharedRegion != nullptr)
    {
      CheckSameGrid<3>(map, "case " + c.caseId + " score map", sharedRegion, "region mask " + options.regionMask);
      const unsigned char * in = sharedRegion->GetBufferPointer();
      for (size_t i = 0; i < n; ++i)
      {
        out[i] = in[i] != 0 ? out[i] : 0;
      }
    }
    if (options.regionImageNonzero)
    {
      const auto image = ReadImage<MapType>(c.image);
      CheckSameGrid<3>(map, "case " + c.caseId + " score map", image, "case " + c.caseId + " image " + c.image);
      const float * in = image->GetBufferPointer();
      for (size_t i = 0; i < n; ++i)
      {
        out[i] = in[i] != 0.0f ? out[i] : 0;
      }
    }
  }
  if (voxelLevel)
  {
    voxels = EvaluateCaseVoxels<3>(map, truth, region, settings.voxel, "case " + c.caseId);
    record.voxelLevel = true;
    record.evaluatedVoxels = voxels->evaluatedVoxels;
    record.lesionVoxels = voxels->lesionVoxels;
    record.components = voxels->components;
    record.counts = voxels->counts;
    record.maxScore = voxels->maxScore;
    record.peakSlice = voxels->peakSlice;
    record.lesionSlice = voxels->lesionSlice;
    if (!record.label && truth)
    {
      record.label = voxels->lesionVoxels > 0;
    }
  }
  else
  {
    // A map without ground truth: only the case score (mean of the map) is used.
    const auto result = EvaluateCaseVoxels<3>(map, nullptr, region, settings.voxel, "case " + c.caseId);
    record.maxScore = result.maxScore;
    record.peakSlice = result.peakSlice;
    if (!record.score)
    {
      record.score = result.meanScore;
      record.scoreSource = "map mean";
    }
    return record;
  }
  if (!record.score)
  {
    record.score = voxels->meanScore;
    record.scoreSource = "map mean";
  }
  return record;
}

} // namespace

std::vector<EvaluationCase>
ReadEvaluationManifest(const std::string & path)
{
  std::vector<EvaluationCase> cases;
  for (const ManifestEntry & entry : ReadManifest(path))
  {
    if (entry.caseId.find_first_of("/\\") != std::string::npos)
    {
      throw InputError("manifest " + path + " line " + std::to_string(entry.line) + ": case_id '" + entry.caseId +
                       "' contains a path separator; it names the prediction files <case_id>.nii.gz and .txt");
    }
    EvaluationCase c;
    c.caseId = entry.caseId;
    c.image = entry.image;
    c.mask = entry.mask;
    if (entry.label)
    {
      c.label = *entry.label != 0;
    }
    cases.push_back(c);
  }
  return cases;
}

CohortEvaluation
EvaluateCohort(const std::vector<EvaluationCase> & manifest,
               const EvaluationSettings &          settings,
               const PredictionEvaluationOptions & options,
               const CasePredictor &               predictor,
               ProgressObserver &                  progress)
{
  if (options.shards == 0 || options.shard >= options.shards)
  {
    throw ParameterError("--shard: shard " + std::to_string(options.shard) + " of " + std::to_string(options.shards) +
                         " is not a shard (expected k/n with 0 <= k < n)");
  }
  MaskType::Pointer sharedRegion;
  if (!options.regionMask.empty())
  {
    sharedRegion = ReadImage<MaskType>(options.regionMask);
  }
  std::vector<std::size_t> indices;
  for (std::size_t i = options.shard; i < manifest.size(); i += options.shards)
  {
    indices.push_back(i);
  }

  CohortEvaluation    evaluation(settings);
  std::mutex          mutex;
  std::atomic<size_t> next{ 0 };
  std::atomic<bool>   failed{ false };
  std::exception_ptr  error;
  size_t              done = 0;
  progress.StartStage("Evaluating " + std::to_string(indices.size()) + " cases");
  auto worker = [&]() {
    while (!failed)
    {
      const size_t k = next++;
      if (k >= indices.size())
      {
        return;
      }
      try
      {
        const EvaluationCase &         c = manifest[indices[k]];
        std::optional<CaseVoxelResult> voxels;
        CaseRecord record = EvaluateOneCase(c, indices[k], settings, options, sharedRegion, predictor(c), voxels);
        std::lock_guard<std::mutex> lock(mutex);
        evaluation.AddCase(std::move(record), voxels ? &*voxels : nullptr);
        progress.Report(static_cast<double>(++done) / indices.size());
      }
      catch (...)
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failed.exchange(true))
        {
          error = std::current_exception();
        }
      }
    }
  };
  const unsigned int       threads = std::max(1u, std::min<unsigned int>(options.threads, indices.size()));
  std::vector<std::thread> pool;
  for (unsigned int t = 1; t < threads; ++t)
  {
    pool.emplace_back(worker);
  }
  worker();
  for (auto & thread : pool)
  {
    thread.join();
  }
  if (error)
  {
    std::rethrow_exception(error);
  }
  progress.EndStage();
  return evaluation;
}

CohortEvaluation
EvaluatePredictionFolder(const std::vector<EvaluationCase> & manifest,
                         const EvaluationSettings &          settings,
                         const PredictionEvaluationOptions & options,
                         ProgressObserver &                  progress)
{
  std::error_code error;
  if (!fs::is_directory(options.predictions, error))
  {
    throw InputError("predictions folder " + options.predictions + " does not exist");
  }
  const std::string folder = options.predictions;
  return EvaluateCohort(
    manifest, settings, options, [&folder](const EvaluationCase & c) { return ReadFolderPrediction(c, folder); },
    progress);
}

std::string
RenderCaseThumbnail(const CaseRecord & record, long slice, double threshold)
{
  const auto image = ReadImage<MapType>(record.image);
  const auto size = image->GetLargestPossibleRegion().GetSize();
  slice = std::clamp<long>(slice, 0, static_cast<long>(size[2]) - 1);
  MapType::Pointer  map;
  MaskType::Pointer truth;
  if (!record.map.empty())
  {
    map = ReadImage<MapType>(record.map);
    CheckSameGrid<3>(image, "case " + record.caseId + " image", map, "case " + record.caseId + " score map");
  }
  if (!record.mask.empty())
  {
    truth = ReadImage<MaskType>(record.mask);
    CheckSameGrid<3>(image, "case " + record.caseId + " image", truth, "case " + record.caseId + " ground truth");
  }
  const size_t       width = size[0];
  const size_t       height = size[1];
  const size_t       offset = static_cast<size_t>(slice) * width * height;
  const float *      pixels = image->GetBufferPointer() + offset;
  std::vector<float>        values(pixels, pixels + width * height);
  const std::vector<double> window = Percentiles(values, { 1.0, 99.0 }, PercentileRule::Lower);
  const float               low = static_cast<float>(window[0]);
  float                     high = static_cast<float>(window[1]);
  if (!(high > low))
  {
    high = low + 1.0f;
  }
  double mapHigh = threshold;
  if (map)
  {
    const float * m = map->GetBufferPointer() + offset;
    mapHigh = std::max<double>(threshold, *std::max_element(m, m + width * height));
  }

  Picture picture(width, height, 3);
  for (size_t y = 0; y < height; ++y)
  {
    for (size_t x = 0; x < width; ++x)
    {
      const size_t i = y * width + x;
      const double grey = std::clamp((pixels[i] - low) / (high - low), 0.0f, 1.0f) * 255.0;
      double       c[3] = { grey, grey, grey };
      if (map)
      {
        const double s = map->GetBufferPointer()[offset + i];
        if (s >= threshold)
        {
          // The toolkit's "hot" colormap, as in NSAOverlay's overlays.
          const auto heat =
            ColormapRgb("hot", mapHigh > threshold ? 0.35 + 0.65 * (s - threshold) / (mapHigh - threshold) : 1.0);
          for (int k = 0; k < 3; ++k)
          {
            c[k] = 0.45 * c[k] + 0.55 * heat[k];
          }
        }
      }
      unsigned char * pixel = picture.At(x, y);
      for (int k = 0; k < 3; ++k)
      {
        pixel[k] = static_cast<unsigned char>(c[k]);
      }
    }
  }
  if (truth)
  {
    picture.Outline(truth->GetBufferPointer() + offset, { 0, 255, 0 });
  }
  // PNG rows run top to bottom; flip so that the image's +y (anterior in RAS-like
  // orientations after ITK's LPS) is up. Encoded in memory: no temporary file.
  picture.FlipRows();
  try
  {
    return EncodePng(picture);
  }
  catch (const OutputError & e)
  {
    throw OutputError("thumbnail of case " + record.caseId + ": " + e.what());
  }
}

} // namespace nsa
