// The VAD page's AudioWorklet (plain JavaScript: a worklet module is loaded by URL, as is, by
// audioWorklet.addModule): it takes the microphone at the context's rate, resamples it to 16 kHz
// and posts frames of 512 samples (32 ms, one Silero v5 frame) to the page (vad.ts), which adds the
// 64 samples of context and runs the model. The first message says when capture started.

const TARGET_RATE = 16000;
const FRAME = 512;

class VadCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    // Output samples per input sample; the microphone runs at 44.1 or 48 kHz, so this is below 1.
    this.step = Math.min(1, TARGET_RATE / sampleRate);
    // An integrate-and-dump decimator: each 16 kHz sample is the mean of the input it spans (the
    // fractional overlaps weighted), a cheap low-pass that keeps most aliasing out of the model.
    this.acc = 0;
    this.phase = 0;
    this.frame = new Float32Array(FRAME);
    this.filled = 0;
    this.started = false;
  }

  emit(sample) {
    this.frame[this.filled++] = sample;
    if (this.filled === FRAME) {
      const frame = this.frame;
      this.port.postMessage({ type: 'frame', samples: frame }, [frame.buffer]);
      this.frame = new Float32Array(FRAME);
      this.filled = 0;
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    if (!this.started) {
      this.started = true;
      this.port.postMessage({ type: 'start', contextTime: currentTime, sampleRate });
    }
    const n = channels[0].length;
    for (let i = 0; i < n; i++) {
      let x = 0;
      for (const ch of channels) x += ch[i];
      x /= channels.length;
      if (this.phase + this.step < 1) {
        this.acc += x * this.step;
        this.phase += this.step;
      } else {
        const part = 1 - this.phase;
        this.emit(this.acc + x * part);
        this.phase = this.step - part;
        this.acc = x * this.phase;
      }
    }
    return true;
  }
}

registerProcessor('vad-capture', VadCapture);
