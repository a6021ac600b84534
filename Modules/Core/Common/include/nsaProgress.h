#ifndef nsaProgress_h
#define nsaProgress_h

#include <string>

namespace nsa
{

/** \class ProgressObserver
 * \brief How long-running module code reports progress without knowing who listens.
 *
 * Programs pass the command-line layer's reporter (Slicer's `<filter-progress>` tags or a
 * terminal progress bar); libraries and tests pass nothing or a NullProgress. Fractions are
 * in [0, 1] and non-decreasing within one stage. Implementations must be callable from the
 * thread that runs the work (one thread at a time).
 */
class ProgressObserver
{
public:
  virtual ~ProgressObserver() = default;
  /** A named stage begins ("Training", "Predicting case 3/20"). */
  virtual void
  StartStage(const std::string & name) = 0;
  /** Fraction of the current stage done. */
  virtual void
  Report(double fraction) = 0;
  /** The current stage ended. */
  virtual void
  EndStage() = 0;
  /** A line of information for the user (not an error). */
  virtual void
  Message(const std::string & text) = 0;
};

/** Ignores everything. */
class NullProgress : public ProgressObserver
{
public:
  void
  StartStage(const std::string &) override
  {}
  void
  Report(double) override
  {}
  void
  EndStage() override
  {}
  void
  Message(const std::string &) override
  {}
};

} // namespace nsa

#endif
