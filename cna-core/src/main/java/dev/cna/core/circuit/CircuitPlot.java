package dev.cna.core.circuit;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A picture of a circuit: how many of its neurons sit in each layer, and their summed |delta|. */
public final class CircuitPlot {
    private CircuitPlot() {}

    public static void write(Circuit circuit, Path png) throws IOException {
        int layers = circuit.model().layers();
        List<Integer> x = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        List<Double> weight = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            x.add(l);
            counts.add(0);
            weight.add(0.0);
        }
        for (CircuitNeuron n : circuit.neurons()) {
            counts.set(n.layer(), counts.get(n.layer()) + 1);
            weight.set(n.layer(), weight.get(n.layer()) + Math.abs(n.delta()));
        }
        CategoryChart count = new CategoryChartBuilder().width(720).height(360)
                .title(circuit.name() + " v" + circuit.version() + ": " + circuit.neurons().size() + " neurons ("
                        + circuit.method().name().toLowerCase() + ", " + circuit.model().id() + ")")
                .xAxisTitle("layer").yAxisTitle("neurons").build();
        count.getStyler().setLegendVisible(false);
        count.addSeries("neurons", x, counts);
        CategoryChart mass = new CategoryChartBuilder().width(720).height(360)
                .title("summed |delta| per layer").xAxisTitle("layer").yAxisTitle("sum |delta|").build();
        mass.getStyler().setLegendVisible(false);
        mass.addSeries("|delta|", x, weight);
        BitmapEncoder.saveBitmap(List.of(count, mass), 2, 1, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
