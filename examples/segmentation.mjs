// Image segmentation by graph cuts: learn a contrast-sensitive Potts energy
// from noisy masks, then restore an unseen noisy mask with one minimum cut.
import { flipNoise, iou, maskToGray, Rng, Segmenter } from "nadir";

const square = (x0, y0, x1, y1) => {
  const data = new Uint8Array(32 * 32);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * 32 + x] = 1;
  return { width: 32, height: 32, data };
};
const truths = [square(8, 8, 24, 24), square(2, 10, 20, 28), square(12, 3, 30, 17)];
const examples = truths.map((mask, i) => ({
  image: maskToGray(flipNoise(mask, 0.2, new Rng(10 + i)), 1),
  mask,
}));
const spec = { name: "squares", connectivity: 8, features: ["bias", "x", "mean(1)", "mean(2)"] };
const segmenter = Segmenter.train(examples, { spec, epochs: 12 });

const truth = square(5, 6, 27, 22);
const noisy = flipNoise(truth, 0.2, new Rng(999));
const { mask, energy } = segmenter.segment(maskToGray(noisy, 1));
console.log(
  `IoU noisy ${iou(noisy.data, truth.data).toFixed(3)} → restored ${iou(mask.data, truth.data).toFixed(3)} (energy ${energy.toFixed(1)})`,
);
