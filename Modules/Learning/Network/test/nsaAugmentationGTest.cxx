// Tests of scanner-variation augmentation (nsa::AugmentScanner), of the training pipeline
// with it, and of prediction at a model's spacing (nsa::PredictNormalised).

#include "nsaAugmentation.h"
#include "nsaStudyPipeline.h"
#include "nsaTrainer.h"

#include "itkImageRegionIteratorWithIndex.h"

#include "gtest/gtest.h"

#include <cmath>
#include <map>
#include <numeric>

namespace
{

template <unsigned int D>
using Image = itk::Image<float, D>;
template <unsigned int D>
using Mask = itk::Image<unsigned char, D>;

/** A disc (ball) of radius 0.35 of the size, bright inside with a soft texture, in [0, 1],
 * and its mask; spacing 1.5 mm, a non-trivial origin. */
template <unsigned int D>
std::pair<typename Image<D>::Pointer, typename Mask<D>::Pointer>
MakeDisc(unsigned int size)
{
  auto                       image = Image<D>::New();
  auto                       mask = Mask<D>::New();
  typename Image<D>::SizeType extent;
  extent.Fill(size);
  image->SetRegions(typename Image<D>::RegionType(extent));
  typename Image<D>::SpacingType spacing;
  spacing.Fill(1.5);
  image->SetSpacing(spacing);
  typename Image<D>::PointType origin;
  for (unsigned int a = 0; a < D; ++a)
  {
    origin[a] = -10.0 * (a + 1);
  }
  image->SetOrigin(origin);
  image->Allocate();
  mask->CopyInformation(image);
  mask->SetRegions(image->GetLargestPossibleRegion());
  mask->Allocate();
  for (itk::ImageRegionIteratorWithIndex<Image<D>> it(image, image->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    double r2 = 0.0, texture = 1.0;
    for (unsigned int a = 0; a < D; ++a)
    {
      const double u = (it.GetIndex()[a] - (size - 1) / 2.0) / size;
      r2 += u * u;
      texture *= std::cos(0.7 * it.GetIndex()[a]);
    }
    const bool inside = std::sqrt(r2) < 0.35;
    it.Set(inside ? static_cast<float>(0.6 + 0.2 * texture) : 0.0f);
    mask->SetPixel(it.GetIndex(), inside ? 1 : 0);
  }
  return { image, mask };
}

nsa::AugmentationParameters
Everything()
{
  nsa::AugmentationParameters p;
  p.probability = 1.0;
  p.gamma = { 0.7, 1.5 };
  p.contrast = { 0.75, 1.25 };
  p.brightness = { -0.1, 0.1 };
  p.bias_field = 0.3;
  p.noise = { 0.01, 0.05 };
  p.blur = { 0.5, 1.0 };
  p.resolution = { 3.0, 6.0 };
  p.elastic_displacement = 4.0;
  p.elastic_spacing = 24.0;
  p.remap_points = 3;
  return p;
}

template <typename TImage>
std::vector<typename TImage::PixelType>
Values(const TImage * image)
{
  const auto n = image->GetLargestPossibleRegion().GetNumberOfPixels();
  return { image->GetBufferPointer(), image->GetBufferPointer() + n };
}

template <unsigned int D>
void
ExpectSameGeometry(const itk::ImageBase<D> * a, const itk::ImageBase<D> * b)
{
  EXPECT_EQ(a->GetLargestPossibleRegion(), b->GetLargestPossibleRegion());
  EXPECT_EQ(a->GetSpacing(), b->GetSpacing());
  EXPECT_EQ(a->GetOrigin(), b->GetOrigin());
  EXPECT_EQ(a->GetDirection(), b->GetDirection());
}

double
Mean(const std::vector<float> & v)
{
  return std::accumulate(v.begin(), v.end(), 0.0) / v.size();
}

double
Variance(const std::vector<float> & v)
{
  const double m = Mean(v);
  double       s = 0.0;
  for (float x : v)
  {
    s += (x - m) * (x - m);
  }
  return s / v.size();
}

template <unsigned int D>
std::pair<typename Image<D>::Pointer, typename Mask<D>::Pointer>
Augmented(const nsa::AugmentationParameters & p, std::uint64_t seed, unsigned int size = 48)
{
  auto disc = MakeDisc<D>(size);
  nsa::AugmentScanner<D>(disc.first, disc.second, p, nsa::IntensityRange{ 0.0, 1.0, true },
                         nsa::RandomStream(seed, 0, 0, nsa::RandomPurpose::Test));
  return disc;
}

} // namespace

TEST(Augmentation, SameSeedSameBitsOtherSeedOtherBits)
{
  for (int dimension : { 2, 3 })
  {
    if (dimension == 2)
    {
      const auto a = Augmented<2>(Everything(), 7), b = Augmented<2>(Everything(), 7), c = Augmented<2>(Everything(), 8);
      EXPECT_EQ(Values(a.first.GetPointer()), Values(b.first.GetPointer()));
      EXPECT_EQ(Values(a.second.GetPointer()), Values(b.second.GetPointer()));
      EXPECT_NE(Values(a.first.GetPointer()), Values(c.first.GetPointer()));
    }
    else
    {
      const auto a = Augmented<3>(Everything(), 7, 24), b = Augmented<3>(Everything(), 7, 24),
                 c = Augmented<3>(Everything(), 8, 24);
      EXPECT_EQ(Values(a.first.GetPointer()), Values(b.first.GetPointer()));
      EXPECT_EQ(Values(a.second.GetPointer()), Values(b.second.GetPointer()));
      EXPECT_NE(Values(a.first.GetPointer()), Values(c.first.GetPointer()));
    }
  }
}

TEST(Augmentation, DefaultsChangeNothing)
{
  const auto original = MakeDisc<2>(48);
  const auto result = Augmented<2>(nsa::AugmentationParameters{}, 3);
  EXPECT_EQ(Values(original.first.GetPointer()), Values(result.first.GetPointer()));
  EXPECT_EQ(Values(original.second.GetPointer()), Values(result.second.GetPointer()));
}

TEST(Augmentation, GeometryKeptAndValuesClipped)
{
  const auto original2 = MakeDisc<2>(48);
  const auto result2 = Augmented<2>(Everything(), 11);
  ExpectSameGeometry<2>(original2.first, result2.first);
  ExpectSameGeometry<2>(original2.second, result2.second);
  const auto original3 = MakeDisc<3>(24);
  const auto result3 = Augmented<3>(Everything(), 11, 24);
  ExpectSameGeometry<3>(original3.first, result3.first);
  ExpectSameGeometry<3>(original3.second, result3.second);
  for (float v : Values(result2.first.GetPointer()))
  {
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
  }
}

TEST(Augmentation, ElasticMovesTheMaskWithTheImage)
{
  nsa::AugmentationParameters p;
  p.probability = 1.0;
  p.elastic_displacement = 6.0;
  p.elastic_spacing = 20.0;
  const auto original = MakeDisc<2>(64);
  const auto result = Augmented<2>(p, 5, 64);
  const auto image = Values(result.first.GetPointer());
  const auto mask = Values(result.second.GetPointer());
  const auto before = Values(original.second.GetPointer());
  std::size_t agree = 0, moved = 0;
  for (std::size_t i = 0; i < image.size(); ++i)
  {
    // The disc is 0 outside and >= 0.4 inside: the warped mask must follow the warped disc
    // (disagreement only on the interpolated rim).
    agree += (image[i] > 0.2f) == (mask[i] != 0);
    moved += mask[i] != before[i];
  }
  EXPECT_GT(static_cast<double>(agree) / image.size(), 0.98);
  EXPECT_GT(moved, 20u); // it did deform
}

TEST(Augmentation, EachIntensityTransformDoesWhatItSays)
{
  const auto original = Values(MakeDisc<2>(48).first.GetPointer());
  const auto only = [](auto set) {
    nsa::AugmentationParameters p;
    p.probability = 1.0;
    set(p);
    return p;
  };
  // Gamma above 1 darkens the mid-tones.
  const auto darker = Values(Augmented<2>(only([](auto & p) { p.gamma = { 2.0, 2.0 }; }), 1).first.GetPointer());
  EXPECT_LT(Mean(darker), Mean(original) - 0.05);
  // Noise adds variance; blur and thick slices remove the texture's.
  // (Inside the disc: in the background, values clipped at 0 lose part of the noise.)
  const auto noisy = Values(Augmented<2>(only([](auto & p) { p.noise = { 0.05, 0.05 }; }), 1).first.GetPointer());
  std::vector<float> insideBefore, insideAfter;
  for (std::size_t i = 0; i < original.size(); ++i)
  {
    if (original[i] > 0.0f)
    {
      insideBefore.push_back(original[i]);
      insideAfter.push_back(noisy[i]);
    }
  }
  // Independent noise of sigma 0.05 adds its variance 0.0025 (many-sample estimate: the disc
  // holds ~900 pixels, so the estimate is within ~10 % of it).
  EXPECT_NEAR(Variance(insideAfter) - Variance(insideBefore), 0.0025, 0.0006);
  const auto blurred = Values(Augmented<2>(only([](auto & p) { p.blur = { 2.0, 2.0 }; }), 1).first.GetPointer());
  EXPECT_LT(Variance(blurred), Variance(original));
  const auto thick = Values(Augmented<2>(only([](auto & p) { p.resolution = { 6.0, 6.0 }; }), 1).first.GetPointer());
  EXPECT_LT(Variance(thick), Variance(original));
  // Contrast and brightness change the object (the disc, above 0) and leave the background.
  const auto inside = [&](const std::vector<float> & v) {
    std::vector<float> kept;
    for (std::size_t i = 0; i < v.size(); ++i)
    {
      if (original[i] > 0.0f)
      {
        kept.push_back(v[i]);
      }
      else
      {
        EXPECT_EQ(v[i], 0.0f);
      }
    }
    return kept;
  };
  // Contrast about the object's mean keeps that mean and scales its variance by factor^2.
  const auto flat = inside(Values(Augmented<2>(only([](auto & p) { p.contrast = { 0.5, 0.5 }; }), 1).first.GetPointer()));
  EXPECT_NEAR(Mean(flat), Mean(inside(original)), 1e-4);
  EXPECT_NEAR(Variance(flat), 0.25 * Variance(inside(original)), 1e-4);
  // Brightness shifts the object (clipped at 1 on top: none of the disc is above 0.8).
  const auto bright = inside(Values(Augmented<2>(only([](auto & p) { p.brightness = { 0.1, 0.1 }; }), 1).first.GetPointer()));
  EXPECT_NEAR(Mean(bright), Mean(inside(original)) + 0.1, 1e-4);
  // The bias field multiplies by at most exp(0.3) and leaves the background (0) alone.
  const auto biased = Values(Augmented<2>(only([](auto & p) { p.bias_field = 0.3; }), 1).first.GetPointer());
  bool       changed = false;
  for (std::size_t i = 0; i < original.size(); ++i)
  {
    if (original[i] == 0.0f)
    {
      ASSERT_EQ(biased[i], 0.0f);
    }
    else
    {
      ASSERT_LE(biased[i], original[i] * std::exp(0.3) + 1e-5);
      ASSERT_GE(biased[i], original[i] * std::exp(-0.3) - 1e-5);
      changed = changed || biased[i] != original[i];
    }
  }
  EXPECT_TRUE(changed);
}

TEST(Augmentation, RemapIsOneRandomPiecewiseLinearCurveOfIntensity)
{
  const auto original = Values(MakeDisc<2>(48).first.GetPointer());
  nsa::AugmentationParameters p;
  p.probability = 1.0;
  p.remap_points = 2;
  const auto a = Values(Augmented<2>(p, 1).first.GetPointer());
  const auto b = Values(Augmented<2>(p, 2).first.GetPointer());
  EXPECT_NE(a, b); // another seed, another curve
  // The curve has 3 linear pieces over [0, 1]: knots at 1/3 and 2/3. The disc's values span
  // [0.4, 0.8], across the knot at 2/3. Collect (input, output) pairs of the object.
  std::map<float, float> curve;
  for (std::size_t i = 0; i < original.size(); ++i)
  {
    if (original[i] == 0.0f)
    {
      EXPECT_EQ(a[i], 0.0f); // the background keeps its value
      continue;
    }
    EXPECT_GE(a[i], 0.0f);
    EXPECT_LE(a[i], 1.0f);
    const auto known = curve.find(original[i]);
    if (known != curve.end())
    {
      EXPECT_EQ(known->second, a[i]); // a function of the intensity alone
    }
    curve[original[i]] = a[i];
  }
  // Within one piece, outputs lie on one line: the slope between consecutive samples is the
  // same for all samples below the knot at 2/3, and for all above it.
  const double knot = 2.0 / 3.0;
  for (bool below : { true, false })
  {
    std::vector<std::pair<double, double>> piece;
    for (const auto & [x, y] : curve)
    {
      if ((x < knot - 1e-3) == below && std::abs(x - knot) > 1e-3)
      {
        piece.emplace_back(x, y);
      }
    }
    ASSERT_GE(piece.size(), 3u);
    const double slope = (piece.back().second - piece.front().second) / (piece.back().first - piece.front().first);
    for (const auto & [x, y] : piece)
    {
      EXPECT_NEAR(y, piece.front().second + slope * (x - piece.front().first), 1e-4);
    }
  }
  // It changed the contrast: the two pieces have different slopes or the curve moved the values.
  EXPECT_NE(a, original);
}

TEST(Augmentation, TrainingSamplesAreReproducibleAndAugmented)
{
  nsa::ModelDescription description;
  description.network.dimension = 2;
  description.network.width_multiplier = 1.0 / 16.0;
  description.training.crop_size = { 40, 40 };
  description.synthesis.object_mask = nsa::ObjectMask::Otsu;
  description.seed = 3;
  std::vector<nsa::TrainingImage> images;
  for (int i = 0; i < 2; ++i)
  {
    auto         disc = MakeDisc<2>(48);
    auto         volume = itk::Image<float, 3>::New();
    itk::Size<3> size{ { 48, 48, 1 } };
    volume->SetRegions(itk::ImageRegion<3>(size));
    volume->Allocate();
    std::copy_n(disc.first->GetBufferPointer(), 48 * 48, volume->GetBufferPointer());
    images.push_back({ volume, nullptr, "disc" + std::to_string(i) });
  }
  nsa::TrainerOptions options;
  options.model_path = std::string(NSA_TEST_OUTPUT_DIR) + "/Learning_augmentation.pt";
  const nsa::Trainer plain(description, images, options);
  description.augmentation = Everything();
  const nsa::Trainer augmented(description, images, options);
  const nsa::Trainer again(description, images, options);
  for (int index = 0; index < 4; ++index)
  {
    const auto a = augmented.MakeSample(1, index);
    EXPECT_EQ(a.image, again.MakeSample(1, index).image);
    EXPECT_EQ(a.label, again.MakeSample(1, index).label);
    EXPECT_NE(a.image, plain.MakeSample(1, index).image);
  }
}

TEST(ModelSpacing, TwoDimensionalModelsResampleInPlaneOnly)
{
  nsa::NetworkParameters  network;
  nsa::TrainingParameters training;
  network.dimension = 2;
  EXPECT_EQ(nsa::ModelSpacing(network, training, 2, itk::Size<3>{ { 10, 10, 10 } }), (std::array<double, 3>{ 0, 0, 0 }));
  training.spacing = { 1.0, 1.5 };
  EXPECT_EQ(nsa::ModelSpacing(network, training, 2, itk::Size<3>{ { 10, 10, 10 } }), (std::array<double, 3>{ 1.0, 1.5, 0 }));
  EXPECT_EQ(nsa::ModelSpacing(network, training, 0, itk::Size<3>{ { 10, 10, 10 } }), (std::array<double, 3>{ 0, 1.0, 1.5 }));
  // A 2D image (one slice across y) is its own slice whatever the slice axis.
  EXPECT_EQ(nsa::ModelSpacing(network, training, 2, itk::Size<3>{ { 10, 1, 10 } }), (std::array<double, 3>{ 1.0, 0, 1.5 }));
  network.dimension = 3;
  training.spacing = { 1.0, 2.0, 3.0 };
  EXPECT_EQ(nsa::ModelSpacing(network, training, 2, itk::Size<3>{ { 10, 10, 10 } }), (std::array<double, 3>{ 1.0, 2.0, 3.0 }));
}

TEST(PredictNormalised, MapComesBackOnTheStudysGridAndMaskIsApplied)
{
  nsa::ModelDescription description;
  description.network.dimension = 2;
  description.network.width_multiplier = 1.0 / 16.0;
  description.training.spacing = { 3.0, 3.0 }; // the study is at 1.5 mm: half the voxels
  const nsa::Model model(description, 1);
  auto             disc = MakeDisc<3>(40);
  auto             study = disc.first;
  itk::Matrix<double, 3, 3> direction;
  direction.SetIdentity();
  direction(0, 0) = -1.0; // an LPS-like flip must survive the round trip too
  study->SetDirection(direction);

  nsa::PredictionParameters parameters = description.prediction;
  const nsa::Predictor      predictor(model, parameters);
  const auto                result = nsa::PredictNormalised(predictor, model, study.GetPointer());
  ExpectSameGeometry<3>(study, result.map);

  parameters.score_mask = nsa::ScoreMask::Otsu;
  const nsa::Predictor masked(model, parameters);
  const auto           inside = nsa::PredictNormalised(masked, model, study.GetPointer());
  ExpectSameGeometry<3>(study, inside.map);
  const auto values = Values(inside.map.GetPointer());
  const auto disc3 = Values(disc.second.GetPointer());
  std::size_t outsideNonZero = 0, corner = 0;
  corner = values[0] == 0.0f;
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    outsideNonZero += disc3[i] == 0 && values[i] != 0.0f && study->GetBufferPointer()[i] == 0.0f;
  }
  EXPECT_EQ(corner, 1u);
  EXPECT_EQ(outsideNonZero, 0u);
}

TEST(TrainingUnits, MinSliceObjectDropsSmallSections)
{
  // A ball: its axial sections shrink towards both poles.
  auto ball = MakeDisc<3>(32).first;
  std::size_t withContent = 0, large = 0, largestArea = 0;
  std::vector<std::size_t> areas;
  for (unsigned int z = 0; z < 32; ++z)
  {
    std::size_t area = 0;
    for (unsigned int i = 0; i < 32 * 32; ++i)
    {
      area += ball->GetBufferPointer()[z * 32 * 32 + i] > 0.0f;
    }
    areas.push_back(area);
    largestArea = std::max(largestArea, area);
  }
  for (std::size_t area : areas)
  {
    withContent += area > 0;
    large += area > 0 && 2 * area >= largestArea;
  }
  nsa::ModelDescription description;
  description.network.dimension = 2;
  description.synthesis.object_mask = nsa::ObjectMask::None;
  nsa::TrainerOptions options;
  options.model_path = std::string(NSA_TEST_OUTPUT_DIR) + "/Learning_units.pt";
  const std::vector<nsa::TrainingImage> images{ { ball, nullptr, "ball" } };
  EXPECT_EQ(nsa::Trainer(description, images, options).NumberOfUnits(), withContent);
  description.training.min_slice_object = 0.5;
  EXPECT_EQ(nsa::Trainer(description, images, options).NumberOfUnits(), large);
  EXPECT_LT(large, withContent);
}
