// The derived DICOM series never replaces the source or a folder of other files, and
// replaces a series it wrote itself (issue 14).
#include "nsaDicomSeriesWriter.h"
#include "nsaError.h"
#include "nsaIOTestData.h"
#include "nsaStudy.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <fstream>
#include <functional>

namespace fs = std::filesystem;

namespace
{
std::size_t
Count(const fs::path & folder)
{
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(folder), fs::directory_iterator()));
}

std::string
Refusal(const std::function<void()> & write)
{
  try
  {
    write();
  }
  catch (const nsa::OutputError & error)
  {
    return error.what();
  }
  return "written";
}
} // namespace

TEST(DerivedSeries, ReplacesOnlyItsOwnSeriesNeverTheSource)
{
  const fs::path folder = nsa::test::FreshFolder("derived-series");
  nsa::test::CtSeriesSpec spec;
  spec.oblique = false;
  const fs::path source = folder / "source";
  nsa::test::WriteCtSeries(source.string(), spec);
  const std::size_t sourceFiles = Count(source);
  const nsa::Study  study = nsa::ReadStudy(source.string());
  auto              write = [&](const fs::path & output) {
    return [&, output] { nsa::WriteDerivedDicomSeries(study.image, source.string(), study.metadata, output.string()); };
  };

  // New, then again into the same folder: its own series (marker) is replaced.
  const fs::path output = folder / "derived";
  ASSERT_EQ(Refusal(write(output)), "written");
  EXPECT_TRUE(fs::is_regular_file(output / ".nsa-derived-series"));
  EXPECT_EQ(Count(output), spec.slices + 1);
  std::ifstream   marker(output / ".nsa-derived-series");
  const std::string first((std::istreambuf_iterator<char>(marker)), std::istreambuf_iterator<char>());
  ASSERT_EQ(Refusal(write(output)), "written");
  std::ifstream   again(output / ".nsa-derived-series");
  const std::string second((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_NE(first, second) << "a new series (new UID) replaced the old one";
  EXPECT_EQ(Count(output), spec.slices + 1);
  EXPECT_EQ(Count(folder), 2u) << "no temporary or moved-aside folder left";

  // Never the source, a folder holding it, a folder inside it.
  EXPECT_NE(Refusal(write(source)).find("the source series is never replaced"), std::string::npos);
  EXPECT_NE(Refusal(write(folder)).find("is (or holds) the source"), std::string::npos);
  EXPECT_NE(Refusal(write(source / "derived")).find("lies inside the source folder"), std::string::npos);
  EXPECT_EQ(Count(source), sourceFiles);

  // A folder of .dcm files the toolkit did not write, or its own series with a file added.
  const fs::path foreign = folder / "foreign";
  fs::create_directories(foreign);
  std::ofstream(foreign / "IM0001.dcm") << "someone else's";
  EXPECT_NE(Refusal(write(foreign)).find("not a series this toolkit wrote"), std::string::npos);
  std::ofstream(output / "notes.txt") << "mine";
  EXPECT_NE(Refusal(write(output)).find("holds notes.txt, which this toolkit did not write"), std::string::npos);
  EXPECT_TRUE(fs::exists(output / "notes.txt"));
  fs::create_directory_symlink(output, folder / "link");
  EXPECT_NE(Refusal(write(folder / "link")).find("is a symbolic link"), std::string::npos);
}
