#include "nsaManifest.h"

#include "nsaError.h"
#include "nsaIOTestData.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace
{
void
Touch(const std::string & path)
{
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << "x";
}

std::string
ErrorOf(const std::string & text, const std::string & base = "/tmp")
{
  try
  {
    nsa::ManifestOptions options;
    options.checkFilesExist = false;
    nsa::ParseManifest(text, "m.csv", base, options);
  }
  catch (const nsa::InputError & error)
  {
    return error.what();
  }
  return "accepted";
}
} // namespace

TEST(Manifest, ReadsAndResolvesRelativePaths)
{
  const std::string folder = nsa::test::FreshFolder("manifest");
  Touch(folder + "/images/a.nii.gz");
  Touch(folder + "/images/b, with comma.nii.gz");
  Touch(folder + "/masks/b.nii.gz");
  Touch("/tmp/nsa-manifest-absolute.nrrd");
  std::ofstream(folder + "/cohort.csv") << "\xEF\xBB\xBF"
                                        << "# normal cases first\r\n"
                                        << "case_id,image,mask,label,site\r\n"
                                        << "a, images/a.nii.gz ,,0,x\r\n"
                                        << "\r\n"
                                        << "b,\"images/b, with comma.nii.gz\",masks/b.nii.gz,1,\"say \"\"hi\"\"\"\r\n"
                                        << "c,/tmp/nsa-manifest-absolute.nrrd,,,y\r\n";
  const auto entries = nsa::ReadManifest(folder + "/cohort.csv");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].caseId, "a");
  EXPECT_EQ(entries[0].image, folder + "/images/a.nii.gz");
  EXPECT_EQ(entries[0].mask, "");
  EXPECT_EQ(entries[0].label, 0);
  EXPECT_EQ(entries[0].line, 3u);
  EXPECT_EQ(entries[1].image, folder + "/images/b, with comma.nii.gz");
  EXPECT_EQ(entries[1].mask, folder + "/masks/b.nii.gz");
  EXPECT_EQ(entries[1].label, 1);
  EXPECT_EQ(entries[2].image, "/tmp/nsa-manifest-absolute.nrrd");
  EXPECT_FALSE(entries[2].label.has_value());
}

TEST(Manifest, ErrorsNameLineAndColumn)
{
  EXPECT_NE(ErrorOf("").find("is empty"), std::string::npos);
  EXPECT_NE(ErrorOf("case,image\nx,y\n").find("line 1: the header has no column 'case_id'"), std::string::npos);
  EXPECT_NE(ErrorOf("case_id,image\na,x.nii\nb\n").find("line 3: 1 fields where the header has 2"), std::string::npos);
  EXPECT_NE(ErrorOf("case_id,image\n,x.nii\n").find("line 2, column 1 (case_id): empty case_id"), std::string::npos);
  EXPECT_NE(ErrorOf("case_id,image\na,x.nii\na,y.nii\n").find("line 3, column 1 (case_id): case_id 'a' already used on line 2"),
            std::string::npos);
  EXPECT_NE(ErrorOf("case_id,image\na,\n").find("line 2, column 2 (image): empty image"), std::string::npos);
  EXPECT_NE(ErrorOf("case_id,image,label\na,x.nii,yes\n").find("line 2, column 3 (label): label 'yes' is not 0"),
            std::string::npos);
  EXPECT_NE(ErrorOf("case_id,image\na,\"x.nii\n").find("line 2, column 2: unterminated quoted field"), std::string::npos);
  EXPECT_NE(ErrorOf("case_id,image,image\n").find("column 3: column 'image' appears twice"), std::string::npos);

  const std::string folder = nsa::test::FreshFolder("manifest-missing");
  std::ofstream(folder + "/m.csv") << "case_id,image,mask\na,a.nii.gz,\n";
  try
  {
    nsa::ReadManifest(folder + "/m.csv");
    FAIL() << "missing image accepted";
  }
  catch (const nsa::InputError & error)
  {
    EXPECT_NE(std::string(error.what()).find("line 2, column 2 (image): image '" + folder + "/a.nii.gz' does not exist"),
              std::string::npos)
      << error.what();
  }
  EXPECT_THROW(nsa::ReadManifest(folder + "/absent.csv"), nsa::InputError);
}

TEST(Manifest, CommentsOnlyBeforeTheHeaderSoHashIdsAreCases)
{
  nsa::ManifestOptions options;
  options.checkFilesExist = false;
  const auto entries =
    nsa::ParseManifest("# a comment\n#, with a comma\ncase_id,image\n#12,a.nii\n\"#13\",b.nii\n", "m.csv", "/tmp", options);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].caseId, "#12");
  EXPECT_EQ(entries[0].line, 4u);
  EXPECT_EQ(entries[1].caseId, "#13");
  // A comment after the header is a row: with the wrong field count it is refused, not skipped.
  EXPECT_NE(ErrorOf("case_id,image,label\na,x.nii,0\n# normal cases\n").find("line 3: 1 fields where the header has 3"),
            std::string::npos);
}

TEST(Manifest, RefusesNoRowsNonUtf8AndControlCharacters)
{
  EXPECT_NE(ErrorOf("case_id,image\n").find("has a header but no case rows"), std::string::npos);
  EXPECT_NE(ErrorOf("# only a comment\ncase_id,image\n\n").find("no case rows"), std::string::npos);
  EXPECT_NE(ErrorOf("case_id,image\nok,a.nii\ncaf\xe9,b.nii\n").find("line 3, byte 4: not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(ErrorOf("case_id,image\n\xc0\xaf,b.nii\n").find("line 2, byte 1: not valid UTF-8"), std::string::npos); // overlong
  EXPECT_NE(ErrorOf("case_id,image\n\xed\xa0\x80,b.nii\n").find("not valid UTF-8"), std::string::npos); // surrogate
  EXPECT_EQ(ErrorOf("case_id,image\ncaf\xc3\xa9,b.nii\n"), "accepted"); // valid UTF-8
  EXPECT_NE(ErrorOf("case_id,image\n\"a\nb\",b.nii\n").find("case_id holds a control character"), std::string::npos);
}
