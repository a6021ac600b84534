// Writes the end-to-end test cohort of NSAEvaluate: eight cases cut from the skull-stripped
// Colin27 brain (mricron's ch2bet.nii.gz), four of them with synthetic ellipsoid lesions
// (brighter tissue and a ground-truth mask), and two prediction folders: "lesion" (the score
// map is the lesion mask itself: every metric is exactly 1) and "blurred" (a blurred mask
// plus a fraction of the image and a false-positive spot: metrics checked against an independent computation).
//
//   NSAEvaluateFixture <ch2bet.nii.gz> <output folder>

#include "nsaImageIO.h"
#include "nsaRandom.h"

#include "itkRegionOfInterestImageFilter.h"
#include "itkSmoothingRecursiveGaussianImageFilter.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

namespace
{
using ImageType = itk::Image<float, 3>;
using MaskType = itk::Image<unsigned char, 3>;

ImageType::Pointer
Cut(const ImageType * brain, long z0)
{
  ImageType::RegionType region;
  region.SetIndex({ { 30, 30, z0 } });
  region.SetSize({ { 120, 160, 8 } });
  // Region of interest: the cut starts at index 0 and keeps its physical position.
  auto extract = itk::RegionOfInterestImageFilter<ImageType, ImageType>::New();
  extract->SetInput(brain);
  extract->SetRegionOfInterest(region);
  extract->Update();
  ImageType::Pointer cut = extract->GetOutput();
  cut->DisconnectPipeline();
  return cut;
}
} // namespace

int
main(int argc, char * argv[])
{
  if (argc != 3)
  {
    std::cerr << "usage: " << argv[0] << " <ch2bet.nii.gz> <output folder>\n";
    return 2;
  }
  try
  {
    namespace fs = std::filesystem;
    const fs::path out = argv[2];
    fs::create_directories(out / "images");
    fs::create_directories(out / "lesion");
    fs::create_directories(out / "blurred");
    const auto brain = nsa::ReadImage<ImageType>(argv[1]);

    std::ofstream manifest(out / "manifest.csv");
    manifest << "case_id,image,mask,label\n";
    for (int c = 0; c < 8; ++c)
    {
      const std::string id = "colin" + std::to_string(c);
      auto              image = Cut(brain, 50 + 10 * c);
      auto              mask = MaskType::New();
      mask->CopyInformation(image);
      mask->SetRegions(image->GetLargestPossibleRegion());
      mask->Allocate();
      mask->FillBuffer(0);
      const auto size = image->GetLargestPossibleRegion().GetSize();
      const bool anomalous = c % 2 == 0;
      if (anomalous)
      {
        nsa::RandomStream random(27, 0, c, nsa::RandomPurpose::Test);
        const int         lesions = 1 + (c / 2) % 2;
        for (int lesion = 0; lesion < lesions; ++lesion)
        {
          // Centre inside the brain, radii 5-11 voxels in-plane and 2-3 across slices.
          ImageType::IndexType centre;
          do
          {
            centre = { { random.UniformInteger(20, 99), random.UniformInteger(20, 139), random.UniformInteger(2, 5) } };
          } while (image->GetPixel(centre) == 0.0f);
          const double rx = random.Uniform(5, 11), ry = random.Uniform(5, 11), rz = random.Uniform(2, 3);
          for (long z = 0; z < static_cast<long>(size[2]); ++z)
            for (long y = 0; y < static_cast<long>(size[1]); ++y)
              for (long x = 0; x < static_cast<long>(size[0]); ++x)
              {
                const double d = std::pow((x - centre[0]) / rx, 2) + std::pow((y - centre[1]) / ry, 2) +
                                 std::pow((z - centre[2]) / rz, 2);
                if (d <= 1.0)
                {
                  mask->SetPixel({ { x, y, z } }, 1);
                }
              }
        }
        // The lesion is visible: 40% brighter tissue.
        const size_t n = image->GetBufferedRegion().GetNumberOfPixels();
        for (size_t i = 0; i < n; ++i)
        {
          if (mask->GetBufferPointer()[i] != 0)
          {
            image->GetBufferPointer()[i] *= 1.4f;
          }
        }
        nsa::WriteImage(mask.GetPointer(), (out / "images" / (id + "_mask.nii.gz")).string());
      }
      nsa::WriteImage(image.GetPointer(), (out / "images" / (id + ".nii.gz")).string());
      manifest << id << ",images/" << id << ".nii.gz," << (anomalous ? "images/" + id + "_mask.nii.gz" : "") << ','
               << (anomalous ? "" : "0") << '\n';

      // "lesion" predictions: the mask itself; no score file (the case score is the map mean).
      auto lesionMap = ImageType::New();
      lesionMap->CopyInformation(image);
      lesionMap->SetRegions(image->GetLargestPossibleRegion());
      lesionMap->Allocate();
      const size_t n = image->GetBufferedRegion().GetNumberOfPixels();
      for (size_t i = 0; i < n; ++i)
      {
        lesionMap->GetBufferPointer()[i] = mask->GetBufferPointer()[i] != 0 ? 1.0f : 0.0f;
      }
      nsa::WriteImage(lesionMap.GetPointer(), (out / "lesion" / (id + ".nii.gz")).string());

      // "blurred" predictions: 0.6 x the mask blurred with sigma 2 mm + 0.4 x the image scaled
      // to [0, 1] (bright tissue gives false positives); case score = map maximum.
      auto smooth = itk::SmoothingRecursiveGaussianImageFilter<ImageType, ImageType>::New();
      smooth->SetInput(lesionMap);
      smooth->SetSigma(2.0);
      smooth->Update();
      auto blurred = smooth->GetOutput();
      // Plus one false-positive spot per case (Gaussian, sigma 3 voxels, height 0.2-0.7) at a
      // random place in the brain, so that neither level is perfect.
      nsa::RandomStream    spotRandom(27, 1, c, nsa::RandomPurpose::Test);
      ImageType::IndexType spot;
      do
      {
        spot = { { spotRandom.UniformInteger(10, 109), spotRandom.UniformInteger(10, 149),
                   spotRandom.UniformInteger(0, 7) } };
      } while (image->GetPixel(spot) == 0.0f);
      const double spotHeight = spotRandom.Uniform(0.2, 0.7);
      float        maximumScore = 0.0f;
      for (size_t i = 0; i < n; ++i)
      {
        const auto   index = blurred->ComputeIndex(static_cast<long>(i));
        const double d2 = std::pow(index[0] - spot[0], 2) + std::pow(index[1] - spot[1], 2) +
                          std::pow(index[2] - spot[2], 2);
        float & s = blurred->GetBufferPointer()[i];
        s = 0.6f * std::max(0.0f, s) + 0.4f * image->GetBufferPointer()[i] / 255.0f +
            static_cast<float>(spotHeight * std::exp(-d2 / (2.0 * 9.0)));
        maximumScore = std::max(maximumScore, s);
      }
      nsa::WriteImage(blurred, (out / "blurred" / (id + ".nii.gz")).string());
      std::ofstream(out / "blurred" / (id + ".txt")) << std::setprecision(9) << maximumScore << '\n';
    }
    std::cout << "fixture written to " << out << '\n';
    return 0;
  }
  catch (const std::exception & e)
  {
    std::cerr << argv[0] << ": error: " << e.what() << '\n';
    return 1;
  }
}
