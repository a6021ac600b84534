// Report thumbnails are encoded in memory (issue 14): no file in the temporary folder, where
// a predictable name could be raced for or linked to another user's file.
#include "nsaImageIO.h"
#include "nsaPredictionEvaluation.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

TEST(Thumbnail, EncodedInMemoryWithoutTemporaryFile)
{
  const fs::path folder = fs::path(NSA_TEST_OUTPUT_DIR) / "EvaluationGTest" / "Thumbnail";
  fs::remove_all(folder);
  fs::create_directories(folder / "tmp");
  using Image = itk::Image<float, 3>;
  auto image = Image::New();
  image->SetRegions(Image::SizeType{ { 12, 9, 3 } });
  image->Allocate();
  for (size_t i = 0; i < image->GetLargestPossibleRegion().GetNumberOfPixels(); ++i)
  {
    image->GetBufferPointer()[i] = static_cast<float>(i % 17);
  }
  nsa::WriteImage(image.GetPointer(), (folder / "image.nii.gz").string());
  nsa::CaseRecord record;
  record.caseId = "case";
  record.image = (folder / "image.nii.gz").string();
  // A symbolic link where the old code wrote its first thumbnail: it must stay untouched.
  const fs::path victim = folder / "victim.txt";
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, folder / "tmp" / ("nsa-thumbnail-" + std::to_string(::getpid()) + "-0.png"));
  const char * previous = std::getenv("TMPDIR");
  const std::string saved = previous ? previous : "";
  ::setenv("TMPDIR", (folder / "tmp").c_str(), 1);
  const std::string png = nsa::RenderCaseThumbnail(record, 1, 0.5);
  previous ? ::setenv("TMPDIR", saved.c_str(), 1) : ::unsetenv("TMPDIR");
  ASSERT_GT(png.size(), 33u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // IHDR: width 12, height 9, 8-bit RGB.
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(static_cast<unsigned char>(png[19]), 12);
  EXPECT_EQ(static_cast<unsigned char>(png[23]), 9);
  EXPECT_EQ(static_cast<unsigned char>(png[25]), 2);
  EXPECT_EQ(std::distance(fs::directory_iterator(folder / "tmp"), fs::directory_iterator()), 1) << "only the link";
  std::ifstream stream(victim);
  std::string   content;
  stream >> content;
  EXPECT_EQ(content, "precious");
  // The bytes decode: read back through ITK's PNG reader.
  const fs::path copy = folder / "copy.png";
  std::ofstream(copy, std::ios::binary) << png;
  const auto back = nsa::ReadImage<itk::Image<unsigned char, 2>>(copy.string());
  EXPECT_EQ(back->GetLargestPossibleRegion().GetSize()[0], 12u);
  EXPECT_EQ(back->GetLargestPossibleRegion().GetSize()[1], 9u);
}
