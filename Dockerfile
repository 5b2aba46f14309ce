# kb-service image: the API and the worker run from it (see docker-compose.yml).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libmagic1 pandoc tesseract-ocr tesseract-ocr-eng && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY kb_service ./kb_service
COPY ingest ./ingest
COPY retrieval ./retrieval
# CPU torch from the PyTorch CPU index; then everything else with the pinned constraints.
# torchvision (pulled by unstructured[pdf] -> timm) breaks next to the CPU torch; see
# scripts/setup.sh. A failed install must fail the build, so no `|| true` here.
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -c constraints.txt . \
 && pip uninstall -y torchvision
ENV HF_HUB_OFFLINE=1 KB_DATA_DIR=/data KB_HOST=0.0.0.0 KB_PORT=8000
EXPOSE 8000
CMD ["kb-service", "serve"]
