#ifndef nsaTrainingPipeline_h
#define nsaTrainingPipeline_h

// Internal header of the Learning module; free of LibTorch (the pipeline is ITK and
// synthesis work only).

#include "nsaTrainer.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

namespace nsa
{

/** \class Trainer::Pipeline
 * \brief The training units (slices or volumes) and the per-sample recipe: selection,
 * augmentation, synthesis, padding. Const after construction, so any number of threads may
 * call MakeSample at once. */
class Trainer::Pipeline
{
public:
  Pipeline(const ModelDescription & description, std::vector<TrainingImage> images);
  ~Pipeline();

  std::size_t
  NumberOfUnits() const;
  std::int64_t
  SamplesPerEpoch() const;
  /** Spatial sizes of every sample, tensor order. */
  const std::vector<std::int64_t> &
  CanvasSize() const
  {
    return m_Canvas;
  }
  TrainingSample
  MakeSample(int epoch, std::int64_t index) const;

  struct Units2D;
  struct Units3D;

private:
  ModelDescription          m_Description;
  std::unique_ptr<Units2D>  m_Units2D;
  std::unique_ptr<Units3D>  m_Units3D;
  std::vector<std::int64_t> m_Canvas;
};

/** \class SampleProducer
 * \brief Worker threads making the samples of one epoch ahead of the training thread.
 *
 * Workers take positions of the index list in increasing order from a shared counter, at most
 * `window` positions ahead of what the training thread has consumed, and store finished samples by
 * index; NextBatch() hands out batches in index order, so batches do not depend on thread
 * timing. An exception in a worker is re-thrown by NextBatch(). With zero workers the
 * samples are made in the calling thread. */
class SampleProducer
{
public:
  /** Samples 0 .. samples-1 of `epoch` in batches of `batchSize` (the last may be short). */
  SampleProducer(const Trainer::Pipeline & pipeline, int epoch, std::int64_t samples, int batchSize, int workers);
  /** Samples `indices` of `epoch` (in this order), in batches of `batchSizes` (their sum is
   * the number of indices; a batch may be empty): one rank's share of an epoch. */
  SampleProducer(const Trainer::Pipeline &  pipeline,
                 int                        epoch,
                 std::vector<std::int64_t>  indices,
                 std::vector<std::int64_t>  batchSizes,
                 int                        workers);
  ~SampleProducer();
  SampleProducer(const SampleProducer &) = delete;
  SampleProducer & operator=(const SampleProducer &) = delete;

  /** The next batch (empty after the last); `waitSeconds` accumulates the time spent
   * waiting for workers. */
  std::vector<TrainingSample>
  NextBatch(double & waitSeconds);

private:
  void
  Start(int workers);
  void
  Work();

  const Trainer::Pipeline &              m_Pipeline;
  const int                              m_Epoch;
  std::vector<std::int64_t>              m_Indices;    ///< sample index of each position
  std::vector<std::int64_t>              m_BatchSizes; ///< positions per batch
  std::size_t                            m_NextBatch{ 0 };
  std::int64_t                           m_Window{ 0 };
  std::int64_t                           m_NextToMake{ 0 }; ///< next position to make
  std::int64_t                           m_Consumed{ 0 };   ///< positions handed out
  bool                                   m_Stop{ false };
  std::exception_ptr                     m_Error;
  std::map<std::int64_t, TrainingSample> m_Ready; ///< by position
  std::mutex                             m_Mutex;
  std::condition_variable                m_Changed;
  std::vector<std::thread>               m_Workers;
};

/** Writes the loss curve (log scale, epochs on x) as an RGB PNG (nsa::Picture). */
void
WriteLossCurvePng(const std::string & path, const std::vector<double> & losses);

/** Writes a grey PNG with one row per sample and `columns` panels per row; each panel is a
 * [H, W] float buffer (tensor order), scaled from [low, high] of its column to 0..255 (the
 * first column by its own range, the others by [0, 1]). */
void
WriteExamplePng(const std::string &                            path,
                const std::vector<std::vector<std::vector<float>>> & rows,
                std::int64_t                                   height,
                std::int64_t                                   width);

} // namespace nsa

#endif
