// Outputs that never destroy data (issue 14): output = input refused, folders created and
// removed again on failure, temporary files of killed runs cleaned up.
#include "nsaAtomicOutput.h"
#include "nsaError.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace
{
std::string
Fresh(const std::string & name)
{
  const fs::path folder = fs::path(NSA_TEST_OUTPUT_DIR) / "CoreGTest" / "OutputSafety" / name;
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder.string();
}

std::string
OutputError(const std::vector<nsa::NamedPath> & inputs, const std::vector<nsa::NamedPath> & outputs)
{
  try
  {
    nsa::CheckOutputPaths(inputs, outputs);
  }
  catch (const nsa::OutputError & error)
  {
    return error.what();
  }
  return "accepted";
}

/** A process id that is certainly gone: a child that has ended and been reaped. */
pid_t
EndedProcess()
{
  const pid_t child = ::fork();
  if (child == 0)
  {
    ::_exit(0);
  }
  ::waitpid(child, nullptr, 0);
  return child;
}

std::string
HostPart()
{
  // The temporary name of a file tells the host: take it from a real one.
  const std::string name = fs::path(nsa::TemporarySiblingPath("/x/y.txt")).filename().string();
  return name.substr(0, name.find('@') + 1); // ".nsa-tmp-<host>@"
}
} // namespace

TEST(OutputSafety, OutputThatIsAnInputIsRefusedThroughLinksAndRelativePaths)
{
  const std::string folder = Fresh("SamePath");
  const std::string input = folder + "/in.nii.gz";
  std::ofstream(input) << "precious";
  fs::create_symlink(input, folder + "/link.nii.gz");
  fs::create_hard_link(input, folder + "/hard.nii.gz");
  const std::vector<nsa::NamedPath> inputs{ { "<input>", input } };
  for (const std::string & alias : { input, folder + "/link.nii.gz", folder + "/hard.nii.gz",
                                     folder + "/../SamePath/./in.nii.gz" })
  {
    EXPECT_NE(OutputError(inputs, { { "--out", alias } }).find("is the same file as the input <input>"),
              std::string::npos)
      << alias;
  }
  // Relative to the working folder.
  const fs::path previous = fs::current_path();
  fs::current_path(folder);
  EXPECT_NE(OutputError(inputs, { { "--out", "in.nii.gz" } }).find("same file"), std::string::npos);
  fs::current_path(previous);
  EXPECT_EQ(OutputError(inputs, { { "--out", folder + "/new.nii.gz" } }), "accepted");
  // Two outputs with one name; a missing folder; a folder as output.
  EXPECT_NE(OutputError(inputs, { { "--a", folder + "/o.nii" }, { "--b", folder + "/./o.nii" } })
              .find("--b '" + folder + "/./o.nii' is the same file as --a"),
            std::string::npos);
  EXPECT_NE(OutputError(inputs, { { "--a", folder + "/no/o.nii" } }).find("does not exist"), std::string::npos);
  EXPECT_NE(OutputError(inputs, { { "--a", folder } }).find("it is a folder"), std::string::npos);
  std::ifstream stream(input);
  std::string   content;
  stream >> content;
  EXPECT_EQ(content, "precious");
}

TEST(OutputSafety, OutputFolderIsRemovedWhenNothingWasWritten)
{
  const std::string folder = Fresh("Folder");
  {
    nsa::OutputFolder created(folder + "/a/b/c");
    EXPECT_TRUE(fs::is_directory(folder + "/a/b/c"));
  }
  EXPECT_FALSE(fs::exists(folder + "/a")) << "empty folders made for a failed run are removed";
  {
    nsa::OutputFolder created(folder + "/a/b");
    std::ofstream(folder + "/a/b/result.txt") << "x";
  }
  EXPECT_TRUE(fs::exists(folder + "/a/b/result.txt")) << "a folder with results stays";
  {
    nsa::OutputFolder kept(folder + "/k");
    kept.Keep();
  }
  EXPECT_TRUE(fs::is_directory(folder + "/k"));
  {
    nsa::OutputFolder existing(folder); // existed before: never removed
  }
  EXPECT_TRUE(fs::is_directory(folder));
  std::ofstream(folder + "/file") << "x";
  EXPECT_THROW(nsa::OutputFolder(folder + "/file"), nsa::OutputError);
}

TEST(OutputSafety, StaleTemporaryFilesOfEndedProcessesAreRemoved)
{
  const std::string folder = Fresh("Stale");
  const std::string final = folder + "/checkpoint.pt";
  const pid_t       gone = EndedProcess();
  const std::string stale = folder + "/" + HostPart() + std::to_string(gone) + "-0-checkpoint.pt";
  const std::string running = folder + "/" + HostPart() + std::to_string(::getppid()) + "-0-checkpoint.pt";
  const std::string otherHost = folder + "/.nsa-tmp-elsewhere@" + std::to_string(gone) + "-0-checkpoint.pt";
  const std::string otherName = folder + "/" + HostPart() + std::to_string(gone) + "-0-other.pt";
  for (const std::string & path : { stale, running, otherHost, otherName })
  {
    std::ofstream(path) << "partial";
  }
  fs::create_symlink("/etc/hostname", folder + "/" + HostPart() + std::to_string(gone) + "-1-checkpoint.pt");
  {
    nsa::AtomicOutput output(final);
    std::ofstream(output.TemporaryPath()) << "new";
    output.Commit();
  }
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(running)) << "a running process's file is kept";
  EXPECT_TRUE(fs::exists(otherHost)) << "another host's file is kept";
  EXPECT_FALSE(fs::exists(otherName)) << "another output's stale file of this host goes too";
  EXPECT_TRUE(fs::is_symlink(folder + "/" + HostPart() + std::to_string(gone) + "-1-checkpoint.pt"));
  EXPECT_TRUE(fs::exists(final));
}

TEST(OutputSafety, TermSignalRemovesTheTemporaryFileBeingWritten)
{
  const std::string folder = Fresh("Signal");
  const std::string final = folder + "/model.pt";
  const std::string record = folder + "/temporary-name.txt";
  const pid_t       child = ::fork();
  if (child == 0)
  {
    nsa::InstallTemporaryFileSignalCleanup();
    nsa::AtomicOutput output(final);
    {
      std::ofstream(output.TemporaryPath()) << std::string(1 << 20, 'x');
      std::ofstream(record) << output.TemporaryPath();
    }
    ::raise(SIGTERM); // killed while writing, before Commit()
    ::_exit(3);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the process ends as the signal says";
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  std::ifstream stream(record);
  std::string   temporary;
  std::getline(stream, temporary);
  ASSERT_FALSE(temporary.empty());
  EXPECT_FALSE(fs::exists(temporary)) << temporary;
  EXPECT_FALSE(fs::exists(final));
}
